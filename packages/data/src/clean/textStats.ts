let cachedText: string | undefined;
let cachedWords: string[] = [];

/** Whitespace-separated words; memoised for the last text because several stages ask in a row. */
export function wordsOf(text: string): string[] {
  if (text !== cachedText) {
    cachedText = text;
    cachedWords = text.split(/\s+/).filter((w) => w.length > 0);
  }
  return cachedWords;
}

const PUNCT_OR_SYMBOL = /^[\p{P}\p{S}]+$/u;
const LETTER = /\p{L}/u;

/** True when a word is made only of punctuation/symbol characters. */
export function isSymbolWord(word: string): boolean {
  const c = word.charCodeAt(0);
  // ASCII letters and digits settle it without a Unicode regex.
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) return false;
  return PUNCT_OR_SYMBOL.test(word);
}

/** True when a word contains at least one letter (any script). */
export function hasLetter(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) return true;
    if (c >= 128) return LETTER.test(word);
  }
  return false;
}

/** 32-bit FNV-1a of a string's UTF-16 code units, mixed with a murmur finaliser. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
