import { latin1Codes } from '../clean/latin1Codes.js';
import { activeTextKernels } from '../textKernels.js';
import { fmix32, hashString } from '../clean/textStats.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range starts at U+0000.
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The text normalisation used before hashing (as datatrove's simplify_text): lowercase,
 * diacritics removed, digit runs folded to `0`, punctuation dropped, whitespace squeezed.
 * Returns the words.
 */
export function dedupWords(text: string): string[] {
  let t = text.toLowerCase();
  const ascii = !NON_ASCII.test(t);
  if (!ascii) t = t.normalize('NFD').replace(/\p{M}+/gu, '');
  // Digit runs are folded first so that "1999" and "2024" are the same token "0".
  const parts = t.replace(/[0-9]+/g, '0').split(ascii ? /[^a-z0-9]+/ : /[^\p{L}\p{N}]+/u);
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

// Output buffer reused between calls (half a word per character at most): a fresh zeroed
// array per document would cost two bytes per character of allocation and GC work.
let scratch = new Uint32Array(0);

/**
 * Hashes of {@link dedupWords}(text), each equal to `hashString(word)`. ASCII text (the common
 * case) is scanned once by char code without building any substring. The result is a view of a
 * buffer reused by the next call on this thread: read it before hashing another text.
 */
export function dedupWordHashes(text: string): Uint32Array {
  // Per-character folding equals whole-string folding except for context-sensitive lowercasing
  // (Greek final sigma) and astral characters; those rare texts take the reference path.
  if (NON_ASCII.test(text) && (text.includes('\u03a3') || /[\ud800-\udfff]/.test(text))) {
    return Uint32Array.from(dedupWords(text), (w) => hashString(w));
  }
  const most = (text.length >> 1) + 1;
  if (scratch.length < most) scratch = new Uint32Array(Math.max(most, 2 * scratch.length, 4096));
  const out = scratch;
  const codes = latin1Table ? latin1Codes(text) : undefined;
  if (codes) {
    const native = activeTextKernels.dedupHashesLatin1;
    const n = native
      ? native(codes, text.length, out, LATIN1_FOLDED, LATIN1_CLASS)
      : hashLatin1(codes, text.length, out);
    return out.subarray(0, n);
  }
  let n = 0;
  let h = FNV_OFFSET;
  // 0: between words, 1: in a word (last char not a digit), 2: in a run of digits.
  let state = 0;
  let folded: number[] | undefined;
  let k = 0;
  const length = text.length;
  // One step past the end reads as a space, so the last word ends inside the loop (code after
  // a long loop runs without type feedback, and V8 deoptimised this function there).
  for (let i = 0; i <= length; ) {
    // Next character code: ASCII directly, others through their (cached) folded form.
    let c: number;
    if (folded !== undefined) {
      c = folded[k++]!;
      if (k >= folded.length) {
        folded = undefined;
        i++;
      }
    } else {
      c = i < length ? text.charCodeAt(i) : 32;
      if (c >= 128) {
        folded = foldChar(c);
        k = 0;
        if (folded.length === 0) {
          folded = undefined;
          i++;
        }
        continue;
      }
      i++;
    }
    if (c >= 65 && c <= 90) c |= 32;
    if ((c >= 97 && c <= 122) || c >= 128) {
      h = Math.imul(h ^ c, FNV_PRIME);
      state = 1;
    } else if (c >= 48 && c <= 57) {
      if (state !== 2) h = Math.imul(h ^ 48, FNV_PRIME);
      state = 2;
    } else {
      if (state !== 0) out[n++] = fmix32(h);
      h = FNV_OFFSET;
      state = 0;
    }
  }
  return out.subarray(0, n);
}

// Marks a non-ASCII character that is neither a letter nor a number (a word separator).
const SEPARATOR = -1;
const foldCache = new Map<number, number[]>();
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** What one non-ASCII character becomes after lowercasing, NFD and mark removal, as char codes. */
function foldChar(c: number): number[] {
  let folded = foldCache.get(c);
  if (folded === undefined) {
    const s = String.fromCharCode(c)
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{M}+/gu, '');
    folded = [];
    for (let i = 0; i < s.length; i++) {
      const code = s.charCodeAt(i);
      folded.push(code < 128 || WORD_CHAR.test(s[i]!) ? code : SEPARATOR);
    }
    if (foldCache.size < 65536) foldCache.set(c, folded);
  }
  return folded;
}

// Every Latin-1 character folds to exactly one character (checked here, in case a runtime's
// Unicode data differs), so a table does the folding of one-byte text: the folded code and its
// class (0 separator, 1 letter, 2 digit).
const LATIN1_FOLDED = new Uint16Array(256);
const LATIN1_CLASS = new Uint8Array(256);
let latin1Table = true;
for (let c = 0; c < 256; c++) {
  const folded = c < 128 ? [c >= 65 && c <= 90 ? c | 32 : c] : foldChar(c);
  if (folded.length !== 1) latin1Table = false;
  const f = folded[0] ?? SEPARATOR;
  LATIN1_FOLDED[c] = f === SEPARATOR ? 0 : f;
  LATIN1_CLASS[c] =
    f === SEPARATOR ? 0 : (f >= 97 && f <= 122) || f >= 128 ? 1 : f >= 48 && f <= 57 ? 2 : 0;
}

/** {@link dedupWordHashes} over Latin-1 bytes, written to `out`; returns the word count. */
function hashLatin1(codes: Uint8Array, length: number, out: Uint32Array): number {
  let n = 0;
  let h = FNV_OFFSET;
  let state = 0;
  // codes[length] is a space (see latin1Codes): the last word ends inside the loop.
  for (let i = 0; i <= length; i++) {
    const b = codes[i]!;
    const cls = LATIN1_CLASS[b]!;
    if (cls === 1) {
      h = Math.imul(h ^ LATIN1_FOLDED[b]!, FNV_PRIME);
      state = 1;
    } else if (cls === 2) {
      if (state !== 2) h = Math.imul(h ^ 48, FNV_PRIME);
      state = 2;
    } else {
      if (state !== 0) out[n++] = fmix32(h);
      h = FNV_OFFSET;
      state = 0;
    }
  }
  return n;
}

/** Key for exact dedup: the normalised word sequence, as a 52-bit hash of its word hashes. */
export function exactKeyFromHashes(hashes: Uint32Array): number {
  let a = 0x811c9dc5 ^ hashes.length;
  let b = 0x9747b28c;
  for (let i = 0; i < hashes.length; i++) {
    a = Math.imul(a ^ hashes[i]!, 0x01000193);
    b = Math.imul((b + hashes[i]!) | 0, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (fmix32(a) >>> 0) * 0x100000 + (fmix32(b) & 0xfffff);
}

/** Key for exact dedup of a text. */
export function exactKey(text: string): number {
  return exactKeyFromHashes(dedupWordHashes(text));
}
