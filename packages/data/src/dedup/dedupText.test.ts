import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { hashString } from '../clean/textStats.js';
import { dedupWordHashes, dedupWords } from './dedupText.js';

describe('dedup text normalisation', () => {
  it('folds case, diacritics, digit runs and punctuation', () => {
    expect(dedupWords('Café—NAÏVE, 1999 vs 2024! x2y3')).toEqual([
      'cafe',
      'naive',
      '0',
      'vs',
      '0',
      'x0y0',
    ]);
  });

  it('the one-scan hashes equal hashing the reference words, on random mixed-script text', () => {
    const rng = new SeededRandom(4);
    const pieces = [
      'The',
      'café',
      'NAÏVE',
      'Ångström',
      '—',
      '1999',
      'x2',
      '世界',
      'Straße',
      'İstanbul',
      'σοφία',
      'ΟΔΟΣ',
      '²',
      '😀',
      '_',
      ' ',
      '\n',
      '.',
      "'",
      'ǅ',
    ];
    for (let d = 0; d < 300; d++) {
      // Half the documents avoid Σ and astral characters, so the one-scan path is exercised.
      const pool = d % 2 === 0 ? pieces : pieces.filter((p) => p !== 'ΟΔΟΣ' && p !== '😀');
      const text = Array.from({ length: 3 + rng.int(40) }, () => pool[rng.int(pool.length)]).join(
        rng.next() < 0.5 ? ' ' : '',
      );
      expect(Array.from(dedupWordHashes(text))).toEqual(dedupWords(text).map((w) => hashString(w)));
    }
  });

  it('the Latin-1 table path equals the reference on random one-byte text (every char 0–255)', () => {
    const rng = new SeededRandom(9);
    for (let d = 0; d < 300; d++) {
      let text = '';
      const length = 1 + rng.int(80);
      for (let i = 0; i < length; i++) {
        const r = rng.next();
        // Mostly letters, digits and spaces, so that words form; the rest anything in Latin-1.
        text += String.fromCharCode(
          r < 0.5 ? 97 + rng.int(26) : r < 0.6 ? 48 + rng.int(10) : r < 0.75 ? 32 : rng.int(256),
        );
      }
      expect(Array.from(dedupWordHashes(text))).toEqual(dedupWords(text).map((w) => hashString(w)));
    }
  });
});
