import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';
import { hashString, wordsOf } from './textStats.js';

/** Gopher repetition thresholds (Rae et al. 2021, Table A1; datatrove defaults). */
export interface GopherRepetitionOptions {
  dupLineFraction?: number;
  dupParagraphFraction?: number;
  dupLineCharFraction?: number;
  dupParagraphCharFraction?: number;
  /** [n, max char fraction of the most frequent n-gram]. */
  topNGrams?: Array<[number, number]>;
  /** [n, max char fraction covered by duplicated n-grams]. */
  dupNGrams?: Array<[number, number]>;
}

export function gopherRepetitionStage(options: GopherRepetitionOptions = {}): CleaningStage {
  const o = {
    dupLineFraction: 0.3,
    dupParagraphFraction: 0.3,
    dupLineCharFraction: 0.2,
    dupParagraphCharFraction: 0.2,
    topNGrams: [
      [2, 0.2],
      [3, 0.18],
      [4, 0.16],
    ] as Array<[number, number]>,
    dupNGrams: [
      [5, 0.15],
      [6, 0.14],
      [7, 0.13],
      [8, 0.12],
      [9, 0.11],
      [10, 0.1],
    ] as Array<[number, number]>,
    ...options,
  };
  return {
    name: 'gopher_repetition',
    apply(doc: Document): StageResult {
      const text = doc.text;
      const length = text.length;
      if (length === 0) return reject('gopher_empty');
      const paragraphs = text.trim().split(/\n{2,}/);
      const para = findDuplicates(paragraphs);
      if (para.elements / paragraphs.length > o.dupParagraphFraction) return reject('dup_para_frac');
      if (para.chars / length > o.dupParagraphCharFraction) return reject('dup_para_char_frac');
      const lines = text.split(/\n+/);
      const line = findDuplicates(lines);
      if (line.elements / lines.length > o.dupLineFraction) return reject('dup_line_frac');
      if (line.chars / length > o.dupLineCharFraction) return reject('dup_line_char_frac');
      const words = wordsOf(text);
      const hashes = new Uint32Array(words.length);
      const lengths = new Uint32Array(words.length);
      for (let i = 0; i < words.length; i++) {
        hashes[i] = hashString(words[i]!);
        lengths[i] = words[i]!.length;
      }
      for (const [n, fraction] of o.topNGrams) {
        const top = topDuplicateChars(hashes, lengths, n);
        if (top / length > fraction) return reject(`top_${n}_gram`, (top / length).toFixed(3));
      }
      for (const [n, fraction] of o.dupNGrams) {
        const dup = allDuplicateChars(hashes, lengths, n);
        if (dup / length > fraction) return reject(`duplicated_${n}_n_grams`, (dup / length).toFixed(3));
      }
      return doc;
    },
  };
}

/** Count and total length of elements that repeat an earlier element. */
export function findDuplicates(items: string[]): { elements: number; chars: number } {
  const seen = new Set<string>();
  let elements = 0;
  let chars = 0;
  for (const item of items) {
    if (seen.has(item)) {
      elements++;
      chars += item.length;
    } else seen.add(item);
  }
  return { elements, chars };
}

// n-grams are keyed by two independent 32-bit hashes combined into one 52-bit number, so no
// n-gram strings are built (the dominant cost in a naive port) and collisions are negligible.
function ngramKey(hashes: Uint32Array, start: number, n: number): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let k = 0; k < n; k++) {
    a = Math.imul(a ^ hashes[start + k]!, 0x01000193);
    b = Math.imul((b + hashes[start + k]!) | 0, 0xcc9e2d51) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}

/** Characters of the most frequent n-gram times its count (joined with spaces, as in Gopher). */
function topDuplicateChars(hashes: Uint32Array, lengths: Uint32Array, n: number): number {
  if (hashes.length < n) return 0;
  const counts = new Map<number, number>();
  let bestKey = -1;
  let bestCount = 0;
  let bestStart = 0;
  for (let i = 0; i + n <= hashes.length; i++) {
    const key = ngramKey(hashes, i, n);
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c > bestCount) {
      bestCount = c;
      bestKey = key;
      bestStart = i;
    }
  }
  if (bestKey === -1) return 0;
  let chars = n - 1;
  for (let k = 0; k < n; k++) chars += lengths[bestStart + k]!;
  return chars * bestCount;
}

/** Characters covered by repeated n-grams, skipping n words after each hit (Gopher's scan). */
function allDuplicateChars(hashes: Uint32Array, lengths: Uint32Array, n: number): number {
  const seen = new Set<number>();
  let chars = 0;
  let i = 0;
  while (i + n <= hashes.length) {
    const key = ngramKey(hashes, i, n);
    if (seen.has(key)) {
      for (let k = 0; k < n; k++) chars += lengths[i + k]!;
      i += n;
    } else {
      seen.add(key);
      i++;
    }
  }
  return chars;
}
