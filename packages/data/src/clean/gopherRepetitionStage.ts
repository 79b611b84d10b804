import { activeTextKernels } from '../textKernels.js';
import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';
import { latin1Codes } from './latin1Codes.js';
import { NgramTable } from './ngramTable.js';
import { scanWords } from './wordScan.js';

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
  // Plain number arrays, read by index in the per-document loop.
  const topNs = o.topNGrams.map(([n]) => n);
  const topFractions = o.topNGrams.map(([, f]) => f);
  const dupNs = o.dupNGrams.map(([n]) => n);
  const dupFractions = o.dupNGrams.map(([, f]) => f);
  const maxN = Math.max(0, ...topNs, ...dupNs);
  const minDupN = Math.min(...dupNs);
  // The rules as a text kernel takes them: [text length, top rules (n, fraction)…, dup rules…].
  const kernelParams = new Float64Array([
    0,
    topNs.length,
    ...o.topNGrams.flat(),
    dupNs.length,
    ...o.dupNGrams.flat(),
  ]);
  const kernelOut = new Float64Array(1);
  return {
    name: 'gopher_repetition',
    apply(doc: Document): StageResult {
      const text = doc.text;
      const length = text.length;
      if (length === 0) return reject('gopher_empty');
      // Paragraphs = trim().split(/\n{2,}/), lines = split(/\n+/), found with indexOf.
      const para = piecesOf(text, 2);
      if (para.elements / para.pieces > o.dupParagraphFraction) return reject('dup_para_frac');
      if (para.chars / length > o.dupParagraphCharFraction) return reject('dup_para_char_frac');
      const line = piecesOf(text, 1);
      if (line.elements / line.pieces > o.dupLineFraction) return reject('dup_line_frac');
      if (line.chars / length > o.dupLineCharFraction) return reject('dup_line_char_frac');
      // Words come from the scan shared with the Gopher quality stage.
      const { hashes, lengths } = scanWords(text);
      const native = activeTextKernels.gopherNgrams;
      if (native) {
        kernelParams[0] = length;
        const failed = native(hashes, lengths, kernelParams, kernelOut);
        if (failed < 0) return doc;
        const fraction = kernelOut[0]!.toFixed(3);
        return failed < topNs.length
          ? reject(`top_${topNs[failed]}_gram`, fraction)
          : reject(`duplicated_${dupNs[failed - topNs.length]}_n_grams`, fraction);
      }
      const words = hashes.length;
      const prefix = preparePrefix(hashes, maxN);
      // `flags` marks the positions whose `flagsN`-gram occurs more than once. An n-gram with
      // n ≥ flagsN can only repeat where its leading flagsN-gram does, so later passes visit
      // only flagged positions (a small share of ordinary prose) and still count exactly.
      let flags: Uint8Array | undefined;
      let flagged = 0;
      let flagsN = 0;
      // Most prose passes every top-n-gram rule by a wide margin: a cheap upper bound from
      // word and word-pair sketches then settles them all without counting any n-gram.
      const bound = topNs.length > 0 ? topGramBound(hashes, lengths) : undefined;
      const topSettled =
        bound !== undefined && topNs.every((n, t) => bound.chars(n) / length <= topFractions[t]!);
      for (let t = 0; t < (topSettled ? 0 : topNs.length); t++) {
        const n = topNs[t]!;
        const useFlags = flagsN <= n ? flags : undefined;
        const pass = countPass(
          prefix,
          words,
          n,
          useFlags,
          useFlags ? flagged : undefined,
          flagsBufferBesides(flags, words),
        );
        if (n > flagsN) {
          flags = pass.flags;
          flagged = pass.flagged;
          flagsN = n;
        }
        let chars = n - 1;
        for (let k = 0; k < n && pass.count > 0; k++) chars += lengths[pass.bestStart + k]!;
        const top = pass.count > 0 ? chars * pass.bestCount : 0;
        if (top / length > topFractions[t]!)
          return reject(`top_${n}_gram`, (top / length).toFixed(3));
      }
      if (dupNs.length > 0) {
        const useFlags = flagsN <= minDupN ? flags : undefined;
        const repeated = countPass(
          prefix,
          words,
          minDupN,
          useFlags,
          useFlags ? flagged : undefined,
          flagsBufferBesides(flags, words),
        );
        // A repeated n-gram (n ≥ minDupN) starts where a repeated minDupN-gram does, so the
        // words those windows cover bound its duplicated characters from above; when the
        // bound cannot pass the threshold, the verdict is known without the exact pass.
        const bounds = coveredChars(lengths, repeated.flags, repeated.flagged, dupNs, minDupN);
        for (let t = 0; t < dupNs.length; t++) {
          const n = dupNs[t]!;
          const fraction = dupFractions[t]!;
          if (n >= minDupN && bounds[t]! / length <= fraction) continue;
          const dup =
            n >= minDupN
              ? allDuplicateChars(prefix, lengths, n, repeated.flags, repeated.flagged)
              : allDuplicateChars(prefix, lengths, n);
          if (dup / length > fraction)
            return reject(`duplicated_${n}_n_grams`, (dup / length).toFixed(3));
        }
      }
      return doc;
    },
  };
}

const piecesOut = new Float64Array(3);

/** {@link duplicatePieces} of the trimmed text (paragraphs) or of the text (lines), natively when a text kernel is registered. */
export function piecesOf(
  text: string,
  minNewlines: 1 | 2,
): { pieces: number; elements: number; chars: number } {
  const native = activeTextKernels.duplicatePiecesLatin1;
  const codes = native ? latin1Codes(text) : undefined;
  if (!native || !codes)
    return duplicatePieces(minNewlines === 2 ? text.trim() : text, minNewlines);
  native(codes, text.length, minNewlines === 2, minNewlines, piecesOut);
  return { pieces: piecesOut[0]!, elements: piecesOut[1]!, chars: piecesOut[2]! };
}

/**
 * Splits `text` at runs of at least `minNewlines` newlines (as `split(/\n{k,}/)`) and counts
 * the pieces, the pieces that repeat an earlier one, and their total length.
 */
function duplicatePieces(
  text: string,
  minNewlines: 1 | 2,
): { pieces: number; elements: number; chars: number } {
  const seen = new Set<string>();
  const separator = minNewlines === 2 ? '\n\n' : '\n';
  let pieces = 0;
  let elements = 0;
  let chars = 0;
  let pos = 0;
  for (;;) {
    const at = text.indexOf(separator, pos);
    const piece = text.slice(pos, at === -1 ? text.length : at);
    pieces++;
    const size = seen.size;
    seen.add(piece);
    if (seen.size === size) {
      elements++;
      chars += piece.length;
    }
    if (at === -1) break;
    pos = at + minNewlines;
    while (pos < text.length && text.charCodeAt(pos) === 10) pos++;
  }
  return { pieces, elements, chars };
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
  pa = new Int32Array(0);
  pb = new Int32Array(0);
  powA = new Int32Array(0);
  powB = new Int32Array(0);

  a(i: number, n: number): number {
    return (this.pa[i + n]! - Math.imul(this.pa[i]!, this.powA[n]!)) | 0;
  }

  b(i: number, n: number): number {
    return (this.pb[i + n]! - Math.imul(this.pb[i]!, this.powB[n]!)) | 0;
  }
}

// One set of prefix buffers per thread, grown as needed: documents are processed one at a time.
const prefixHashes = new PrefixHashes();

function preparePrefix(hashes: Uint32Array, maxN: number): PrefixHashes {
  const p = prefixHashes;
  const len = hashes.length;
  if (p.pa.length < len + 1 || p.pa.length > 8 * (len + 1024)) {
    p.pa = new Int32Array(len + 1);
    p.pb = new Int32Array(len + 1);
  }
  const pa = p.pa;
  const pb = p.pb;
  for (let i = 0; i < len; i++) {
    pa[i + 1] = (Math.imul(pa[i]!, BASE_A) + hashes[i]!) | 0;
    pb[i + 1] = (Math.imul(pb[i]!, BASE_B) + (hashes[i]! ^ 0x5555)) | 0;
  }
  if (p.powA.length < maxN + 1) {
    p.powA = new Int32Array(maxN + 1);
    p.powB = new Int32Array(maxN + 1);
    p.powA[0] = 1;
    p.powB[0] = 1;
    for (let n = 1; n <= maxN; n++) {
      p.powA[n] = Math.imul(p.powA[n - 1]!, BASE_A);
      p.powB[n] = Math.imul(p.powB[n - 1]!, BASE_B);
    }
  }
  return p;
}

// Two flag buffers per thread, grown as needed: a pass writes its flags into the one that does
// not hold its candidates (a fresh array per pass would be an off-heap allocation each time).
let flagBuffers = [new Uint8Array(0), new Uint8Array(0)] as const;

/** A flag buffer for at least `words` positions that is not the one behind `inUse`. */
function flagsBufferBesides(inUse: Uint8Array | undefined, words: number): Uint8Array {
  if (flagBuffers[0].length < words) {
    const size = Math.max(words, 2 * flagBuffers[0].length, 4096);
    flagBuffers = [new Uint8Array(size), new Uint8Array(size)];
  }
  return inUse !== undefined && inUse.buffer === flagBuffers[0].buffer
    ? flagBuffers[1]
    : flagBuffers[0];
}

// Saturating per-bucket counts (0, 1, 2 = "two or more") of the n-grams' hashes. An n-gram
// alone in its bucket occurs once, so the exact table only sees the positions in shared
// buckets: the repeats plus a few collisions. 64 K buckets (one byte each) stay in cache.
const SKETCH_BITS = 16;
const sketch = new Uint8Array(1 << SKETCH_BITS);

/**
 * Counts the n-grams starting at `candidates` (all positions when absent; `visits` is how many
 * are flagged). Returns the most frequent one (the first to reach the top count, as Python's
 * Counter.most_common; position 0 when nothing repeats) and flags the positions whose n-gram
 * occurs more than once (a key's first position is flagged when its second one turns up).
 * N-grams that occur once change neither, so only positions in shared sketch buckets are
 * counted exactly.
 */
function countPass(
  prefix: PrefixHashes,
  words: number,
  n: number,
  candidates: Uint8Array | undefined,
  visits: number | undefined,
  buffer: Uint8Array,
): { count: number; bestStart: number; bestCount: number; flags: Uint8Array; flagged: number } {
  const count = Math.max(0, words - n + 1);
  buffer.fill(0, 0, count);
  const flags = buffer.subarray(0, count);
  const visited = candidates ? (visits ?? count) : count;
  // About eight buckets per visited position, so few unique n-grams share a bucket.
  let bits = 10;
  while (bits < SKETCH_BITS && 1 << bits < visited * 8) bits++;
  const bucketMask = (1 << bits) - 1;
  sketch.fill(0, 0, 1 << bits);
  let shared = 0;
  for (let i = 0; i < count; i++) {
    if (candidates && candidates[i] === 0) continue;
    const a = prefix.a(i, n);
    const k = (a ^ (a >>> 16)) & bucketMask;
    const c = sketch[k]!;
    if (c === 0) sketch[k] = 1;
    else if (c === 1) {
      sketch[k] = 2;
      shared += 2;
    } else shared++;
  }
  let bestCount = 0;
  let bestStart = 0;
  let flagged = 0;
  if (shared > 0) {
    // The table must hold every key counted (open addressing never grows).
    table.reset(shared);
    for (let i = 0; i < count; i++) {
      if (candidates && candidates[i] === 0) continue;
      const a = prefix.a(i, n);
      if (sketch[(a ^ (a >>> 16)) & bucketMask] !== 2) continue;
      const slot = table.addSlot(a, prefix.b(i, n), i);
      const c = table.countAt(slot);
      if (c > bestCount) {
        bestCount = c;
        bestStart = i;
      }
      if (c === 2) {
        flags[table.firstAt(slot)] = 1;
        flags[i] = 1;
        flagged += 2;
      } else if (c > 2) {
        flags[i] = 1;
        flagged++;
      }
    }
  }
  if (bestCount <= 1) {
    bestCount = 1;
    bestStart = 0;
  }
  return { count, bestStart, bestCount, flags, flagged };
}

// Per bucket, interleaved so one probe touches one cache line: the character total of the words
// hashed there, and the occurrence count and character total of the word pairs hashed there.
let boundSketch = new Uint32Array(0);

/**
 * An upper bound on `count(g) × chars(g)` of the most frequent n-gram g, for any n, from one
 * pass over the words. Equal words (pairs) share a bucket, so a bucket's totals bound each of
 * its keys': U₁ = max count·length of a word, U₂ = the same for a word pair (with its space),
 * C₂ = max count of a pair. Cut g into ⌊n/2⌋ pairs plus a word when n is odd: g occurs no more
 * often than any of its pieces, so count(g)·chars(g) ≤ ⌊n/2⌋·U₂ + (n mod 2)·U₁ + (pieces − 1)·C₂
 * (one space between pieces). Collisions only loosen the bound.
 */
export function topGramBound(
  hashes: Uint32Array,
  lengths: Uint32Array,
): { chars(n: number): number } {
  const words = hashes.length;
  // About two buckets per word: small enough to stay in cache, loose enough for prose.
  let bits = 8;
  while (bits < 16 && 1 << bits < words * 2) bits++;
  const size = 4 << bits;
  if (boundSketch.length < size) boundSketch = new Uint32Array(size);
  else boundSketch.fill(0, 0, size);
  const sketch = boundSketch;
  const mask = (1 << bits) - 1;
  let maxChars1 = 0;
  let maxChars2 = 0;
  let maxCount2 = 0;
  for (let i = 0; i < words; i++) {
    const h = hashes[i]!;
    const length = lengths[i]!;
    const at1 = ((h ^ (h >>> 15)) & mask) << 2;
    const chars1 = sketch[at1]! + length;
    sketch[at1] = chars1;
    if (chars1 > maxChars1) maxChars1 = chars1;
    if (i + 1 === words) break;
    const pair = (Math.imul(h, BASE_A) + hashes[i + 1]!) | 0;
    const at2 = ((pair ^ (pair >>> 15)) & mask) << 2;
    const count2 = sketch[at2 + 1]! + 1;
    sketch[at2 + 1] = count2;
    if (count2 > maxCount2) maxCount2 = count2;
    const chars2 = sketch[at2 + 2]! + length + lengths[i + 1]! + 1;
    sketch[at2 + 2] = chars2;
    if (chars2 > maxChars2) maxChars2 = chars2;
  }
  return {
    chars(n: number): number {
      if (n > words) return 0;
      const pairs = n >> 1;
      const pieces = pairs + (n & 1);
      return pairs * maxChars2 + (n & 1) * maxChars1 + (pieces - 1) * maxCount2;
    },
  };
}

const bounds = new Float64Array(64);

/**
 * For each n of `ns` (n ≥ `minN`; others get 0), the total length of the words in the union of
 * the windows [i, i + n) over flagged positions i that start a whole n-gram: at least what
 * {@link allDuplicateChars} counts for n. One pass over the flags; the returned array is reused.
 */
function coveredChars(
  lengths: Uint32Array,
  flags: Uint8Array,
  flagged: number,
  ns: number[],
  minN: number,
): Float64Array {
  const out = ns.length <= bounds.length ? bounds : new Float64Array(ns.length);
  out.fill(0, 0, ns.length);
  if (flagged === 0) return out;
  const until = new Int32Array(ns.length);
  const words = lengths.length;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === 0) continue;
    for (let t = 0; t < ns.length; t++) {
      const n = ns[t]!;
      if (n < minN || i + n > words) continue;
      let chars = out[t]!;
      for (let w = Math.max(i, until[t]!); w < i + n; w++) chars += lengths[w]!;
      out[t] = chars;
      until[t] = i + n;
    }
  }
  return out;
}

/** Characters covered by repeated n-grams, skipping n words after each hit (Gopher's scan). */
function allDuplicateChars(
  prefix: PrefixHashes,
  lengths: Uint32Array,
  n: number,
  repeated?: Uint8Array,
  repeatedCount?: number,
): number {
  const count = lengths.length - n + 1;
  if (count <= 0) return 0;
  table.reset(repeated ? (repeatedCount ?? count) : count);
  let chars = 0;
  let i = 0;
  while (i < count) {
    // Unique leading n-gram (n = the flags' size) → this n-gram is unique too.
    if (repeated && repeated[i] === 0) {
      i++;
      continue;
    }
    if (table.add(prefix.a(i, n), prefix.b(i, n)) > 1) {
      for (let k = 0; k < n; k++) chars += lengths[i + k]!;
      i += n;
    } else i++;
  }
  return chars;
}
