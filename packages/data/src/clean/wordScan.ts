import { fmix32, isWhitespace } from './textStats.js';

/** Kind bits of a word (see {@link WordScan.kinds}). */
export const WORD_ALNUM = 1;
export const WORD_LETTER = 2;
export const WORD_NON_ASCII = 4;
export const WORD_CONTROL = 8;

/**
 * The whitespace-separated words of a text (JavaScript's `\s`, as `split(/\s+/)`), found in
 * one scan: offsets, UTF-16 lengths, hashes and ASCII character-kind bits. The Gopher stages
 * (and FineWeb, when C4 left the text alone) all need these, so the last scan is cached and
 * shared instead of each stage splitting the text again.
 */
export interface WordScan {
  readonly text: string;
  readonly count: number;
  readonly starts: Uint32Array;
  readonly lengths: Uint32Array;
  /** 32-bit FNV-1a of the word's UTF-16 code units, murmur-finalised. */
  readonly hashes: Uint32Array;
  /** WORD_ALNUM (an ASCII letter or digit), WORD_LETTER (an ASCII letter), WORD_NON_ASCII, WORD_CONTROL (an ASCII control character). */
  readonly kinds: Uint8Array;
}

// ASCII classes: 0 whitespace, 1 letter, 2 digit, 3 other printable, 4 control.
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  ASCII_CLASS[c] = isWhitespace(c)
    ? 0
    : (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
      ? 1
      : c >= 48 && c <= 57
        ? 2
        : c < 32 || c === 127
          ? 4
          : 3;
}
const KIND_OF_CLASS = [0, WORD_ALNUM | WORD_LETTER, WORD_ALNUM, 0, WORD_CONTROL];

let capacity = 0;
let starts = new Uint32Array(0);
let lengths = new Uint32Array(0);
let hashes = new Uint32Array(0);
let kinds = new Uint8Array(0);
let last: WordScan | undefined;

/** Grows the shared buffers (doubling) so that at least `needed` words fit. */
function grow(needed: number): void {
  let next = Math.max(1024, capacity);
  while (next < needed) next *= 2;
  const s = new Uint32Array(next);
  const l = new Uint32Array(next);
  const h = new Uint32Array(next);
  const k = new Uint8Array(next);
  s.set(starts);
  l.set(lengths);
  h.set(hashes);
  k.set(kinds);
  starts = s;
  lengths = l;
  hashes = h;
  kinds = k;
  capacity = next;
}

/**
 * Scans `text` (or returns the cached scan of the same text). The arrays are views of buffers
 * reused by the next scan: read them before scanning another text, never keep them.
 */
export function scanWords(text: string): WordScan {
  if (last !== undefined && last.text === text) return last;
  // Words are at least one character plus a separator; start smaller and grow as needed.
  if (capacity === 0) grow(1024);
  let n = 0;
  let start = -1;
  let h = 0;
  let kind = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    let bits: number;
    if (c < 128) {
      const cls = ASCII_CLASS[c]!;
      if (cls === 0) {
        if (start >= 0) {
          if (n === capacity) grow(n + 1);
          starts[n] = start;
          lengths[n] = i - start;
          hashes[n] = fmix32(h);
          kinds[n++] = kind;
          start = -1;
        }
        continue;
      }
      bits = KIND_OF_CLASS[cls]!;
    } else if (isWhitespace(c)) {
      if (start >= 0) {
        if (n === capacity) grow(n + 1);
        starts[n] = start;
        lengths[n] = i - start;
        hashes[n] = fmix32(h);
        kinds[n++] = kind;
        start = -1;
      }
      continue;
    } else bits = WORD_NON_ASCII;
    if (start < 0) {
      start = i;
      h = 0x811c9dc5;
      kind = 0;
    }
    h = Math.imul(h ^ c, 0x01000193);
    kind |= bits;
  }
  if (start >= 0) {
    if (n === capacity) grow(n + 1);
    starts[n] = start;
    lengths[n] = length - start;
    hashes[n] = fmix32(h);
    kinds[n++] = kind;
  }
  last = {
    text,
    count: n,
    starts: starts.subarray(0, n),
    lengths: lengths.subarray(0, n),
    hashes: hashes.subarray(0, n),
    kinds: kinds.subarray(0, n),
  };
  return last;
}

/** The cached scan of `text`, if it is the last one scanned. */
export function cachedWordScan(text: string): WordScan | undefined {
  return last !== undefined && last.text === text ? last : undefined;
}
