import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { countWords, hashString, isWhitespace } from './textStats.js';
import { WORD_ALNUM, WORD_CONTROL, WORD_LETTER, WORD_NON_ASCII, scanWords } from './wordScan.js';
import { wordStats } from './wordStats.js';

const STOP = new Set(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with']);

/** The obvious split-and-regex version, as the reference. */
function reference(text: string, maxStops: number) {
  const words = text.split(/\s+/).filter(Boolean);
  const nonSymbolWords = words.filter((w) => !/^[\p{P}\p{S}]+$/u.test(w));
  let stops = 0;
  for (const w of words) if (stops < maxStops && STOP.has(w.toLowerCase())) stops++;
  return {
    words: words.length,
    nonSymbol: nonSymbolWords.length,
    nonSymbolChars: nonSymbolWords.reduce((n, w) => n + w.length, 0),
    alpha: words.filter((w) => /\p{L}/u.test(w)).length,
    stops,
  };
}

describe('wordStats', () => {
  it('matches split + Unicode regexes on random mixed-script text', () => {
    const rng = new SeededRandom(8);
    const pieces = [
      'The',
      'of',
      'AND',
      'with',
      '42',
      '—',
      '...',
      '#tag',
      'café',
      'naïve',
      '世界',
      '!!',
      '“quoted”',
      'x1',
      '→',
      'be',
      '\u00a0',
      '\t',
      '\n',
      '  ',
    ];
    for (let d = 0; d < 200; d++) {
      const text = Array.from(
        { length: 5 + rng.int(60) },
        () => pieces[rng.int(pieces.length)],
      ).join(rng.next() < 0.5 ? ' ' : '');
      const maxStops = 1 + rng.int(4);
      expect(wordStats(text, STOP, maxStops, 4)).toEqual(reference(text, maxStops));
      expect(countWords(text)).toBe(reference(text, 0).words);
    }
  });
});

describe('scanWords', () => {
  it('equals a split on \\s with per-word hashes and kinds, for one-byte and two-byte text', () => {
    const rng = new SeededRandom(12);
    const kindOf = (w: string) => {
      let k = 0;
      for (const ch of w) {
        const c = ch.charCodeAt(0);
        if (/[A-Za-z]/.test(ch)) k |= WORD_ALNUM | WORD_LETTER;
        else if (/[0-9]/.test(ch)) k |= WORD_ALNUM;
        else if (c >= 128) k |= WORD_NON_ASCII;
        else if (c < 32 || c === 127) k |= WORD_CONTROL;
      }
      return k;
    };
    for (let d = 0; d < 400; d++) {
      // Even documents stay within Latin-1 (the byte-table path), odd ones reach beyond it.
      const top = d % 2 === 0 ? 256 : 0x3100;
      let text = '';
      for (let i = 0, n = rng.int(120); i < n; i++) {
        const r = rng.next();
        text += String.fromCharCode(
          r < 0.55 ? 97 + rng.int(26) : r < 0.75 ? 32 : r < 0.8 ? 10 : rng.int(top),
        );
      }
      const scan = scanWords(text);
      const words: Array<[number, string]> = [];
      let start = -1;
      for (let i = 0; i <= text.length; i++) {
        const space = i === text.length || isWhitespace(text.charCodeAt(i));
        if (space && start >= 0) {
          words.push([start, text.slice(start, i)]);
          start = -1;
        } else if (!space && start < 0) start = i;
      }
      expect(words.map(([, w]) => w)).toEqual(text.split(/\s+/).filter(Boolean));
      expect(scan.count).toBe(words.length);
      expect(Array.from(scan.starts)).toEqual(words.map(([at]) => at));
      expect(Array.from(scan.lengths)).toEqual(words.map(([, w]) => w.length));
      expect(Array.from(scan.hashes)).toEqual(words.map(([, w]) => hashString(w)));
      expect(Array.from(scan.kinds)).toEqual(words.map(([, w]) => kindOf(w)));
    }
  });
});
