import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';
import { NgramTable } from './ngramTable.js';
import { fmix32, isWhitespace } from './textStats.js';

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
      if (para.elements / paragraphs.length > o.dupParagraphFraction)
        return reject('dup_para_frac');
      if (para.chars / length > o.dupParagraphCharFraction) return reject('dup_para_char_frac');
      const lines = text.split(/\n+/);
      const line = findDuplicates(lines);
      if (line.elements / lines.length > o.dupLineFraction) return reject('dup_line_frac');
      if (line.chars / length > o.dupLineCharFraction) return reject('dup_line_char_frac');
      const { hashes, lengths } = wordHashes(text);
      const words = hashes.length;
      const maxN = Math.max(0, ...o.topNGrams.map(([n]) => n), ...o.dupNGrams.map(([n]) => n));
      const prefix = new PrefixHashes(hashes, maxN);
      // `flags` marks the positions whose `flagsN`-gram occurs more than once. An n-gram with
      // n ≥ flagsN can only repeat where its leading flagsN-gram does, so later passes visit
      // only flagged positions (a small share of ordinary prose) and still count exactly.
      let flags: Uint8Array | undefined;
      let flagsN = 0;
      for (const [n, fraction] of o.topNGrams) {
        const pass = countPass(prefix, words, n, flagsN <= n ? flags : undefined);
        if (n > flagsN) {
          flags = pass.flags;
          flagsN = n;
        }
        let chars = n - 1;
        for (let k = 0; k < n && pass.count > 0; k++) chars += lengths[pass.bestStart + k]!;
        const top = pass.count > 0 ? chars * pass.bestCount : 0;
        if (top / length > fraction) return reject(`top_${n}_gram`, (top / length).toFixed(3));
      }
      if (o.dupNGrams.length > 0) {
        const minDupN = Math.min(...o.dupNGrams.map(([n]) => n));
        const repeated = countPass(
          prefix,
          words,
          minDupN,
          flagsN <= minDupN ? flags : undefined,
        ).flags;
        for (const [n, fraction] of o.dupNGrams) {
          const dup =
            n >= minDupN
              ? allDuplicateChars(prefix, lengths, n, repeated)
              : allDuplicateChars(prefix, lengths, n);
          if (dup / length > fraction)
            return reject(`duplicated_${n}_n_grams`, (dup / length).toFixed(3));
        }
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

// n-grams are keyed by two independent polynomial hashes of the word hashes (64 bits in all),
// read in O(1) from prefix sums, so no n-gram strings are built whatever n is.
const BASE_A = 0x01000193;
const BASE_B = 0x5bd1e995;
const table = new NgramTable();

/** Prefix hashes of a word-hash sequence: hash(i, n) = P[i+n] − P[i]·Bⁿ (mod 2³²). */
class PrefixHashes {
  readonly pa: Int32Array;
  readonly pb: Int32Array;
  private readonly powA: Int32Array;
  private readonly powB: Int32Array;

  constructor(hashes: Uint32Array, maxN: number) {
    const len = hashes.length;
    this.pa = new Int32Array(len + 1);
    this.pb = new Int32Array(len + 1);
    for (let i = 0; i < len; i++) {
      this.pa[i + 1] = (Math.imul(this.pa[i]!, BASE_A) + hashes[i]!) | 0;
      this.pb[i + 1] = (Math.imul(this.pb[i]!, BASE_B) + (hashes[i]! ^ 0x5555)) | 0;
    }
    this.powA = new Int32Array(maxN + 1);
    this.powB = new Int32Array(maxN + 1);
    this.powA[0] = 1;
    this.powB[0] = 1;
    for (let n = 1; n <= maxN; n++) {
      this.powA[n] = Math.imul(this.powA[n - 1]!, BASE_A);
      this.powB[n] = Math.imul(this.powB[n - 1]!, BASE_B);
    }
  }

  a(i: number, n: number): number {
    return (this.pa[i + n]! - Math.imul(this.pa[i]!, this.powA[n]!)) | 0;
  }

  b(i: number, n: number): number {
    return (this.pb[i + n]! - Math.imul(this.pb[i]!, this.powB[n]!)) | 0;
  }
}

/**
 * Counts the n-grams starting at `candidates` (all positions when absent). Returns the most
 * frequent one (the first to reach the top count, as Python's Counter.most_common; position 0
 * when nothing repeats) and flags the positions whose n-gram occurs more than once.
 */
function countPass(
  prefix: PrefixHashes,
  words: number,
  n: number,
  candidates?: Uint8Array,
): { count: number; bestStart: number; bestCount: number; flags: Uint8Array } {
  const count = Math.max(0, words - n + 1);
  const flags = new Uint8Array(count);
  let visits = count;
  if (candidates) {
    visits = 0;
    for (let i = 0; i < count; i++) visits += candidates[i]!;
  }
  // The table must hold every visited key (open addressing never grows).
  table.reset(visits);
  let bestCount = 0;
  let bestStart = 0;
  const slots = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    if (candidates && candidates[i] === 0) continue;
    const slot = table.addSlot(prefix.a(i, n), prefix.b(i, n));
    slots[i] = slot;
    const c = table.countAt(slot);
    if (c > bestCount) {
      bestCount = c;
      bestStart = i;
    }
  }
  if (bestCount <= 1) {
    bestCount = 1;
    bestStart = 0;
  } else {
    for (let i = 0; i < count; i++) {
      if (candidates && candidates[i] === 0) continue;
      if (table.countAt(slots[i]!) > 1) flags[i] = 1;
    }
  }
  return { count, bestStart, bestCount, flags };
}

/** Hashes and UTF-16 lengths of the whitespace-separated words, in one scan without substrings. */
export function wordHashes(text: string): { hashes: Uint32Array; lengths: Uint32Array } {
  const hashes = new Uint32Array((text.length >> 1) + 1);
  const lengths = new Uint32Array(hashes.length);
  let n = 0;
  let h = 0x811c9dc5;
  let len = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c)) {
      if (len > 0) {
        hashes[n] = fmix32(h);
        lengths[n++] = len;
        h = 0x811c9dc5;
        len = 0;
      }
    } else {
      h = Math.imul(h ^ c, 0x01000193);
      len++;
    }
  }
  if (len > 0) {
    hashes[n] = fmix32(h);
    lengths[n++] = len;
  }
  return { hashes: hashes.subarray(0, n), lengths: lengths.subarray(0, n) };
}

/** Characters covered by repeated n-grams, skipping n words after each hit (Gopher's scan). */
function allDuplicateChars(
  prefix: PrefixHashes,
  lengths: Uint32Array,
  n: number,
  repeated?: Uint8Array,
): number {
  const count = lengths.length - n + 1;
  if (count <= 0) return 0;
  table.reset(count);
  let chars = 0;
  let i = 0;
  while (i < count) {
    // Unique leading 5-gram → this n-gram is unique: never seen before, never seen again.
    if (repeated && repeated[i] === 0) {
      i++;
      continue;
    }
    const a = prefix.a(i, n);
    const b = prefix.b(i, n);
    if (table.has(a, b)) {
      for (let k = 0; k < n; k++) chars += lengths[i + k]!;
      i += n;
    } else {
      table.add(a, b);
      i++;
    }
  }
  return chars;
}
