import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { countWords } from './textStats.js';
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
