/** JavaScript's `\s` (what `split(/\s+/)` splits on), by char code. */
export function isWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Number of whitespace-separated words. */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isWhitespace(text.charCodeAt(i));
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

/** Per-document word statistics for the Gopher quality rules. */
export interface WordStats {
  words: number;
  /** Words not made only of punctuation/symbols, and their total length. */
  nonSymbol: number;
  nonSymbolChars: number;
  /** Words containing a letter. */
  alpha: number;
  /** Stop words seen, counted up to `maxStops`. */
  stops: number;
}

/**
 * One scan over the text, classifying whitespace-separated words by char code (a Unicode
 * regex runs only on words with non-ASCII characters) without building a word array.
 */
export function wordStats(
  text: string,
  stopWords: Set<string>,
  maxStops: number,
  maxStopLength: number,
): WordStats {
  const out: WordStats = { words: 0, nonSymbol: 0, nonSymbolChars: 0, alpha: 0, stops: 0 };
  let start = -1;
  let alnum = false;
  let letter = false;
  let nonAscii = false;
  let control = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (!isWhitespace(c)) {
      if (start < 0) {
        start = i;
        alnum = letter = nonAscii = control = false;
      }
      if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) alnum = letter = true;
      else if (c >= 48 && c <= 57) alnum = true;
      else if (c >= 128) nonAscii = true;
      else if (c < 32 || c === 127) control = true;
      continue;
    }
    if (start < 0) continue;
    const length = i - start;
    out.words++;
    const word =
      nonAscii || control || (out.stops < maxStops && length <= maxStopLength)
        ? text.slice(start, i)
        : '';
    const symbol = alnum ? false : nonAscii || control ? PUNCT_OR_SYMBOL.test(word) : true;
    if (!symbol) {
      out.nonSymbol++;
      out.nonSymbolChars += length;
    }
    if (letter || (nonAscii && LETTER.test(word))) out.alpha++;
    if (out.stops < maxStops && length <= maxStopLength && stopWords.has(word.toLowerCase()))
      out.stops++;
    start = -1;
  }
  return out;
}

const PUNCT_OR_SYMBOL = /^[\p{P}\p{S}]+$/u;
const LETTER = /\p{L}/u;

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
