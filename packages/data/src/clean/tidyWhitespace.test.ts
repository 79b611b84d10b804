import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { tidyWhitespace } from './tidyWhitespace.js';

/** The regex chain the scan replaces. */
function reference(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .replace(/ \n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

describe('tidyWhitespace', () => {
  it('equals the regex chain on random strings over a whitespace-heavy alphabet', () => {
    const rng = new SeededRandom(21);
    const alphabet = [
      ' ',
      ' ',
      '\n',
      '\n',
      '\r',
      '\r\n',
      '\t',
      '\v',
      '\f',
      '\u00a0',
      '\u2003',
      '\u1680',
      '\u2000',
      '\u200a',
      '\u200b',
      '\u202f',
      '\u205f',
      '\u3000',
      '\u2028',
      '\ufeff',
      '\u0085',
      'a',
      'b',
      'é',
      '.',
      '世',
    ];
    for (let d = 0; d < 3000; d++) {
      const length = rng.int(30);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[rng.int(alphabet.length)];
      expect(tidyWhitespace(text)).toBe(reference(text));
    }
  });

  it('returns clean text as the same string and tidies a typical messy one', () => {
    const clean = 'One line.\n\nTwo lines\nhere.';
    expect(tidyWhitespace(clean)).toBe(clean);
    expect(tidyWhitespace('  a \t b  \r\n\r\n\r\n c\u00a0\n')).toBe('a b\n\n c');
  });
});
