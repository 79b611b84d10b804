import { describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { CL100K_PATTERN, compilePattern, translatePattern } from './pattern.js';

const split = (pattern: string, text: string) =>
  [...text.matchAll(compilePattern(pattern))].map((m) => m[0]);

describe('translatePattern', () => {
  it('expands (?i:...) into explicit case classes', () => {
    expect(split("(?i:'s|'ll)|\\w+", "it'S HE'LL x")).toEqual(['it', "'S", 'HE', "'LL", 'x']);
    expect(translatePattern('(?i:[a-c]x)')).toBe('(?:[a-cA-C][xX])');
  });

  it('gives possessive quantifiers and atomic groups their no-backtrack meaning', () => {
    // a++a can never match (the possessive run leaves nothing); a+a can.
    expect(split('a++a', 'aaaa')).toEqual([]);
    expect(split('a+a', 'aaaa')).toEqual(['aaaa']);
    expect(split('(?>a|ab)c', 'abc ac')).toEqual(['ac']);
    expect(split('(?:a|ab)c', 'abc ac')).toEqual(['abc', 'ac']);
  });

  it('uses Unicode White_Space for \\s (U+0085 yes, U+FEFF no), like Rust regex', () => {
    expect(compilePattern('^\\s$').test('\u0085')).toBe(true);
    expect(compilePattern('^\\s$').test('\ufeff')).toBe(false);
    expect(compilePattern('^[^\\s]$').test('\ufeff')).toBe(true);
  });

  it('maps \\d to Unicode digits, \\A/\\z to anchors, \\x{..} and \\pL forms', () => {
    expect(split('\\d+', 'a١٢٣b42')).toEqual(['١٢٣', '42']);
    expect(split('\\A\\pL+', 'abc def')).toEqual(['abc']);
    expect(split('\\x{1F600}', 'x😀y')).toEqual(['😀']);
  });

  it('splits cl100k text as tiktoken does', () => {
    expect(split(CL100K_PATTERN, "I'm 12345 ok!!\n\n  x")).toEqual([
      'I',
      "'m",
      ' ',
      '123',
      '45',
      ' ok',
      '!!\n\n',
      ' ',
      ' x',
    ]);
  });

  it('rejects broken patterns with a TokenizerError naming the pattern', () => {
    for (const bad of ['(', 'a)', '[abc', '*a', '\\q', '[[:alpha:]]']) {
      expect(() => compilePattern(bad)).toThrow(TokenizerError);
    }
    expect(() => compilePattern('(')).toThrow(/pattern "\("/);
  });
});
