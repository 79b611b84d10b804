import { activeTextKernels } from '../textKernels.js';
import { latin1Codes } from './latin1Codes.js';
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

// Per Latin-1 character: 0 for whitespace, else its kind bits plus IN_WORD.
const IN_WORD = 16;
const LATIN1_KIND = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  LATIN1_KIND[c] = isWhitespace(c)
    ? 0
    : IN_WORD |
      (c >= 128
        ? WORD_NON_ASCII
        : (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
          ? WORD_ALNUM | WORD_LETTER
          : c >= 48 && c <= 57
            ? WORD_ALNUM
            : c < 32 || c === 127
              ? WORD_CONTROL
              : 0);
}

let capacity = 0;
let starts = new Uint32Array(0);
let lengths = new Uint32Array(0);
let hashes = new Uint32Array(0);
let kinds = new Uint8Array(0);
let last: WordScan | undefined;

/**
 * Scans `text` (or returns the cached scan of the same text). The arrays are views of buffers
 * reused by the next scan: read them before scanning another text, never keep them.
 */
export function scanWords(text: string): WordScan {
  if (last !== undefined && last.text === text) return last;
  // A word takes at least one character and a separator, so this many slots always suffice.
  const most = (text.length >> 1) + 1;
  if (capacity < most) {
    capacity = Math.max(1024, most, capacity * 2);
    starts = new Uint32Array(capacity);
    lengths = new Uint32Array(capacity);
    hashes = new Uint32Array(capacity);
    kinds = new Uint8Array(capacity);
  }
  const codes = latin1Codes(text);
  const native = activeTextKernels.scanWordsLatin1;
  const n = codes
    ? native
      ? native(codes, text.length, starts, lengths, hashes, kinds)
      : scanLatin1(codes, text.length, starts, lengths, hashes, kinds)
    : scanUtf16(text, starts, lengths, hashes, kinds);
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

/** The word scan over Latin-1 bytes (one table lookup per character); returns the word count. */
function scanLatin1(
  codes: Uint8Array,
  length: number,
  starts: Uint32Array,
  lengths: Uint32Array,
  hashes: Uint32Array,
  kinds: Uint8Array,
): number {
  let n = 0;
  let start = -1;
  let h = 0;
  let kind = 0;
  // codes[length] is a space (see latin1Codes), which ends the last word inside the loop.
  for (let i = 0; i <= length; i++) {
    const c = codes[i]!;
    const bits = LATIN1_KIND[c]!;
    if (bits === 0) {
      if (start >= 0) {
        starts[n] = start;
        lengths[n] = i - start;
        hashes[n] = fmix32(h);
        kinds[n++] = kind & ~IN_WORD;
        start = -1;
      }
      continue;
    }
    if (start < 0) {
      start = i;
      h = 0x811c9dc5;
      kind = 0;
    }
    h = Math.imul(h ^ c, 0x01000193);
    kind |= bits;
  }
  return n;
}

/** The same scan over UTF-16 code units, for text with characters above U+00FF. */
function scanUtf16(
  text: string,
  starts: Uint32Array,
  lengths: Uint32Array,
  hashes: Uint32Array,
  kinds: Uint8Array,
): number {
  let n = 0;
  let start = -1;
  let h = 0;
  let kind = 0;
  const length = text.length;
  // One step past the end reads as a space and ends the last word inside the loop.
  for (let i = 0; i <= length; i++) {
    const c = i < length ? text.charCodeAt(i) : 32;
    const bits = c < 256 ? LATIN1_KIND[c]! : isWhitespace(c) ? 0 : IN_WORD | WORD_NON_ASCII;
    if (bits === 0) {
      if (start >= 0) {
        starts[n] = start;
        lengths[n] = i - start;
        hashes[n] = fmix32(h);
        kinds[n++] = kind & ~IN_WORD;
        start = -1;
      }
      continue;
    }
    if (start < 0) {
      start = i;
      h = 0x811c9dc5;
      kind = 0;
    }
    h = Math.imul(h ^ c, 0x01000193);
    kind |= bits;
  }
  return n;
}
