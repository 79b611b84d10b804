import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';

/** C4 rules (Raffel et al. 2020, as in datatrove's C4QualityFilter); every switch defaults on. */
export interface C4Options {
  /** Drop lines that do not end in `. ? ! " '` (or end in `...`). */
  filterNoTerminalPunct?: boolean;
  /** Minimum words per kept line (default 3). */
  minWordsPerLine?: number;
  /** Drop a line containing a longer word (default 1000). */
  maxWordLength?: number;
  /** Minimum sentences in the kept text (default 5). */
  minSentences?: number;
  /** Strip Wikipedia-style `[1]`, `[edit]`, `[citation needed]`. */
  removeCitations?: boolean;
  /** Drop lines mentioning "javascript". */
  filterJavascript?: boolean;
  /** Drop lines with cookie / terms-of-use boilerplate. */
  filterPolicy?: boolean;
  /** Reject documents containing "lorem ipsum". */
  filterLoremIpsum?: boolean;
  /** Reject documents containing `{` (code). */
  filterCurlyBracket?: boolean;
}

const POLICY = /terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies/i;
const LOREM = /lorem ipsum/i;
const JAVASCRIPT = /javascript/i;
const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;

/** Line-level C4 cleaning plus its document-level rejections. */
export function c4Stage(options: C4Options = {}): CleaningStage {
  const o = {
    filterNoTerminalPunct: true,
    minWordsPerLine: 3,
    maxWordLength: 1000,
    minSentences: 5,
    removeCitations: true,
    filterJavascript: true,
    filterPolicy: true,
    filterLoremIpsum: true,
    filterCurlyBracket: true,
    ...options,
  };
  return {
    name: 'c4',
    apply(doc: Document): StageResult {
      const source = doc.text;
      // Document-level pre-checks: a pattern absent from the whole text is absent from every
      // line, so the per-line tests run only for documents that can match. (Citation removal
      // can join "java[1]script", hence the search text for the post-removal patterns.)
      const citations = o.removeCitations && source.includes('[');
      const lower = o.filterLoremIpsum ? source.toLowerCase() : '';
      const checkLorem = o.filterLoremIpsum && lower.includes('lorem ipsum');
      const checkCurly = o.filterCurlyBracket && source.includes('{');
      let checkJs = false;
      let checkPolicy = false;
      if (o.filterJavascript || o.filterPolicy) {
        const search = citations
          ? source.replace(CITATION, '').toLowerCase()
          : lower || source.toLowerCase();
        checkJs = o.filterJavascript && search.includes('javascript');
        checkPolicy =
          o.filterPolicy &&
          (search.includes('cookie') ||
            search.includes('terms of use') ||
            search.includes('privacy policy'));
      }
      const kept: string[] = [];
      for (const rawLine of source.split('\n')) {
        let line = rawLine.trim();
        if (line === '') continue;
        if (checkLorem && LOREM.test(line)) return reject('c4_lorem_ipsum');
        if (checkCurly && line.includes('{')) return reject('c4_curly_bracket');
        // Most lines of a document with a "[" somewhere have none: skip the regex for them.
        if (citations && line.includes('[')) line = line.replace(CITATION, '');
        if (o.filterNoTerminalPunct && !endsInTerminalPunct(line)) continue;
        if (!hasWordShape(line, o.minWordsPerLine, o.maxWordLength)) continue;
        if (checkJs && JAVASCRIPT.test(line)) continue;
        if (checkPolicy && POLICY.test(line)) continue;
        kept.push(line);
      }
      if (kept.length === 0) return reject('c4_no_lines_left');
      const text = kept.join('\n');
      const sentences = countSentencesUpTo(text, o.minSentences);
      if (sentences < o.minSentences)
        return reject('c4_too_few_sentences', `${sentences} < ${o.minSentences}`);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}

/** Ends in `. ? ! " '` but not in `...` (C4's terminal-punctuation rule). */
function endsInTerminalPunct(line: string): boolean {
  const last = line.charCodeAt(line.length - 1);
  if (last !== 46 && last !== 63 && last !== 33 && last !== 34 && last !== 39) return false;
  return !line.endsWith('...');
}

/**
 * At least `minWords` words and none longer than `maxWordLength`, without scanning whole
 * lines: words are counted only until there are enough, and a too-long word — a run of more
 * than `maxWordLength` non-spaces — must contain a multiple of `maxWordLength + 1`, so only the
 * runs through those positions are measured.
 */
function hasWordShape(line: string, minWords: number, maxWordLength: number): boolean {
  if (minWords > 0) {
    let words = 0;
    let inWord = false;
    let i = 0;
    for (; i < line.length; i++) {
      const space = isSpace(line.charCodeAt(i));
      if (!space && !inWord && ++words >= minWords) break;
      inWord = !space;
    }
    if (words < minWords) return false;
  }
  const step = maxWordLength + 1;
  for (let probe = maxWordLength; probe < line.length; probe += step) {
    if (isSpace(line.charCodeAt(probe))) continue;
    let start = probe;
    while (start > 0 && !isSpace(line.charCodeAt(start - 1))) start--;
    let end = probe + 1;
    while (end < line.length && !isSpace(line.charCodeAt(end))) end++;
    if (end - start > maxWordLength) return false;
  }
  return true;
}

/** Sentences = runs of text ending in `.`, `!` or `?` (plus closing quotes) followed by whitespace or the end. Linear scan. */
export function countSentences(text: string): number {
  return countSentencesUpTo(text, Number.POSITIVE_INFINITY);
}

/** {@link countSentences}, stopping once `limit` sentences are found. */
function countSentencesUpTo(text: string, limit: number): number {
  let count = 0;
  let hasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 33 || c === 63) {
      let j = i + 1;
      while (j < text.length && isTerminal(text.charCodeAt(j))) j++;
      while (j < text.length && (text.charCodeAt(j) === 34 || text.charCodeAt(j) === 39)) j++;
      if (hasContent && (j === text.length || isSpace(text.charCodeAt(j)))) {
        count++;
        if (count >= limit) return count;
        hasContent = false;
      }
      i = j - 1;
    } else if (!isSpace(c)) hasContent = true;
  }
  return count;
}

function isTerminal(c: number): boolean {
  return c === 46 || c === 33 || c === 63;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xa0;
}
