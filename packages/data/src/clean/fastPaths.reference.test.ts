import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import type { Document } from '../types.js';
import { type C4Options, c4Stage, countSentences } from './c4Stage.js';
import { type FinewebOptions, finewebStage } from './finewebStage.js';
import { type GopherQualityOptions, gopherQualityStage } from './gopherQualityStage.js';
import { type StageResult, isRejection } from './stage.js';

// The stages were rewritten for speed (document-level pre-checks, early exits, shared word
// scans, no per-line trimming). These literal split-and-regex ports of the rules are the
// references: on random documents built to hit every rule and edge, verdicts, details and
// output text must be identical.

const POLICY = /terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies/i;
const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;
const isC4Space = (c: string) => /^[ \n\t\r\f\v\u00a0]$/.test(c);

function referenceC4(text: string, o: Required<C4Options>): string {
  const kept: string[] = [];
  for (const rawLine of text.split('\n')) {
    let line = rawLine.trim();
    if (line === '') continue;
    if (o.filterLoremIpsum && /lorem ipsum/i.test(line)) return 'c4_lorem_ipsum';
    if (o.filterCurlyBracket && line.includes('{')) return 'c4_curly_bracket';
    if (o.removeCitations) line = line.replace(CITATION, '');
    const endsOk = ['.', '?', '!', '"', "'"].some((p) => line.endsWith(p)) && !line.endsWith('...');
    if (o.filterNoTerminalPunct && !endsOk) continue;
    const words = [...line].reduce<string[]>((acc, c, i, all) => {
      if (!isC4Space(c) && (i === 0 || isC4Space(all[i - 1]!))) acc.push('');
      if (!isC4Space(c)) acc[acc.length - 1] += c;
      return acc;
    }, []);
    if (words.length < o.minWordsPerLine) continue;
    // UTF-16 length, as the stage measures.
    if (words.some((w) => w.length > o.maxWordLength)) continue;
    if (o.filterJavascript && /javascript/i.test(line)) continue;
    if (o.filterPolicy && POLICY.test(line)) continue;
    kept.push(line);
  }
  if (kept.length === 0) return 'c4_no_lines_left';
  const out = kept.join('\n');
  // The unlimited counter (the stage stops counting once it has enough).
  const sentences = countSentences(out);
  if (sentences < o.minSentences) return `c4_too_few_sentences ${sentences} < ${o.minSentences}`;
  return `kept ${out}`;
}

function referenceFineweb(text: string, o: Required<FinewebOptions>): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return 'fineweb_empty';
  const punct = lines.filter((l) => /[.'"!?]$/.test(l)).length / lines.length;
  if (punct < o.linePunctThreshold && !(punct === 0 && o.linePunctExcludeZero))
    return `line_punct_ratio ${punct.toFixed(3)}`;
  const short = lines.filter((l) => l.length <= o.shortLineLength).length / lines.length;
  if (short > o.shortLineThreshold) return `short_line_ratio ${short.toFixed(3)}`;
  const seen = new Set<string>();
  let dupChars = 0;
  for (const l of lines) {
    if (seen.has(l)) dupChars += l.length;
    seen.add(l);
  }
  const newlines = text.split('\n').length - 1;
  if (dupChars / Math.max(1, text.length - newlines) > o.charDuplicatesRatio)
    return 'char_dup_ratio';
  const words = text.split(/\s+/).filter(Boolean).length;
  if (newlines / Math.max(1, words) > o.newLineRatio) return 'list_ratio';
  return 'kept';
}

function referenceGopherQuality(text: string, o: Required<GopherQualityOptions>): string {
  const words = text.split(/\s+/).filter(Boolean);
  const nonSymbol = words.filter((w) => !/^[\p{P}\p{S}]+$/u.test(w));
  const n = nonSymbol.length;
  if (n < o.minDocWords) return `gopher_short_doc ${n} words`;
  if (n > o.maxDocWords) return `gopher_long_doc ${n} words`;
  const avg = nonSymbol.join('').length / n;
  if (avg < o.minAvgWordLength) return `gopher_below_avg_word_length ${avg.toFixed(2)}`;
  if (avg > o.maxAvgWordLength) return `gopher_above_avg_word_length ${avg.toFixed(2)}`;
  if (text.split('#').length - 1 > o.maxSymbolWordRatio * words.length)
    if ((text.split('#').length - 1) / words.length > o.maxSymbolWordRatio)
      return 'gopher_too_many_hashes';
  const ellipses = text.split('...').length - 1 + (text.split('\u2026').length - 1);
  if (ellipses / words.length > o.maxSymbolWordRatio) return 'gopher_too_many_ellipsis';
  const lines = text.split('\n');
  const bullets = lines.filter((l) => /^[\u2022-]/.test(l.trimStart())).length;
  if (bullets / lines.length > o.maxBulletLinesRatio) return 'gopher_too_many_bullets';
  const endEllipsis = lines.filter((l) => /(\.\.\.|\u2026)$/.test(l.trimEnd())).length;
  if (endEllipsis / lines.length > o.maxEllipsisLinesRatio) return 'gopher_too_many_end_ellipsis';
  if (words.filter((w) => /\p{L}/u.test(w)).length / words.length < o.minAlphaWordsRatio)
    return 'gopher_below_alpha_threshold';
  const stops = words.filter((w) => o.stopWords.includes(w.toLowerCase())).length;
  if (stops < o.minStopWords) return `gopher_enough_stop_words ${stops} stop words`;
  return 'kept';
}

const verdict = (r: StageResult) =>
  isRejection(r)
    ? `${r.reason}${r.detail === undefined ? '' : ` ${r.detail}`}`
    : Array.isArray(r)
      ? 'split'
      : r.text;

/** Random multi-line documents from pieces that trip every rule now and then. */
function randomDocument(rng: SeededRandom): string {
  const pieces = [
    'the',
    'of',
    'and',
    'with',
    'budget',
    'Council',
    'votes',
    'é',
    'naïve',
    '世界',
    '42',
    '.',
    '!',
    '?',
    '"',
    "'",
    '...',
    '\u2026',
    '#tag',
    '#',
    '- ',
    '\u2022 ',
    '—',
    '(x)',
    '[1]',
    '[edit]',
    '[Citation Needed]',
    'java[2]script',
    'JavaScript',
    'Lorem Ipsum',
    'lorem ipsum',
    'uses cookies',
    'Terms of Use',
    'privacy policy',
    'cookie',
    '{',
    'end.',
    'done!',
    'why?',
    '"quoted."',
    "it's",
    ' ',
    ' ',
    ' ',
    '  ',
    '\t',
    '\u00a0',
    '\u3000',
    '\n',
    '\n',
    '\n\n',
    ' \n',
  ];
  const long = () => 'x'.repeat(3 + (rng.int(3) === 0 ? 10 : 0) + rng.int(4));
  const parts: string[] = [];
  const length = 5 + rng.int(rng.int(4) === 0 ? 400 : 60);
  for (let i = 0; i < length; i++) {
    const r = rng.int(10);
    parts.push(r < 1 ? long() : pieces[rng.int(pieces.length)]!);
    if (rng.int(3) > 0) parts.push(' ');
  }
  return parts.join('');
}

describe('fast stage paths vs literal ports', () => {
  it('c4 matches on 1500 random documents under several configurations', () => {
    const rng = new SeededRandom(31);
    const configs: Array<Required<C4Options>> = [];
    for (const maxWordLength of [1000, 12, 5])
      for (const minWordsPerLine of [3, 0, 6])
        configs.push({
          filterNoTerminalPunct: minWordsPerLine !== 6,
          minWordsPerLine,
          maxWordLength,
          minSentences: maxWordLength === 5 ? 0 : 2,
          removeCitations: minWordsPerLine !== 0,
          filterJavascript: true,
          filterPolicy: maxWordLength !== 12,
          filterLoremIpsum: minWordsPerLine !== 3,
          filterCurlyBracket: maxWordLength !== 1000,
        });
    const seen = new Set<string>();
    for (let d = 0; d < 1500; d++) {
      const text = randomDocument(rng);
      const o = configs[d % configs.length]!;
      const ours = verdict(c4Stage(o).apply({ id: 'd', text }));
      const ref = referenceC4(text, o);
      expect(ref.startsWith('kept ') ? `kept ${ours}` : ours).toBe(ref);
      seen.add(ref.split(' ')[0]!);
    }
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it('fineweb matches on 1500 random documents', () => {
    const rng = new SeededRandom(32);
    const seen = new Set<string>();
    for (let d = 0; d < 1500; d++) {
      const text = randomDocument(rng);
      const o: Required<FinewebOptions> = {
        linePunctThreshold: 0.12,
        linePunctExcludeZero: d % 5 === 0,
        shortLineThreshold: d % 2 ? 0.67 : 0.9,
        shortLineLength: 30,
        charDuplicatesRatio: d % 3 === 0 ? 0.01 : 0.2,
        newLineRatio: [0.3, 0.05, 0.07, 0][d % 4]!,
      };
      const doc: Document = { id: 'd', text };
      const ours = verdict(finewebStage(o).apply(doc));
      const ref = referenceFineweb(text, o);
      expect(ref === 'kept' ? (ours === text ? 'kept' : ours) : ours).toBe(ref);
      seen.add(ref.split(' ')[0]!);
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });

  it('gopher quality matches on 1500 random documents', () => {
    const rng = new SeededRandom(33);
    const seen = new Set<string>();
    for (let d = 0; d < 1500; d++) {
      const text = randomDocument(rng);
      const o: Required<GopherQualityOptions> = {
        minDocWords: d % 2 ? 50 : 5,
        maxDocWords: 100_000,
        minAvgWordLength: d % 3 ? 3 : 1,
        maxAvgWordLength: 10,
        maxSymbolWordRatio: d % 4 ? 0.1 : 0.5,
        maxBulletLinesRatio: d % 5 ? 0.9 : 0.2,
        maxEllipsisLinesRatio: 0.3,
        minAlphaWordsRatio: d % 6 ? 0.8 : 0.3,
        minStopWords: 2,
        stopWords: ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'],
      };
      const ours = verdict(gopherQualityStage(o).apply({ id: 'd', text }));
      const ref = referenceGopherQuality(text, o);
      expect(ref === 'kept' ? (ours === text ? 'kept' : ours) : ours).toBe(ref);
      seen.add(ref.split(' ')[0]!);
    }
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });
});
