import { fmix32 } from '../clean/textStats.js';
import { activeTextKernels } from '../textKernels.js';
import { dedupWordHashes } from './dedupText.js';
import { simdMinima } from './minhashSimd.js';

/** MinHash-LSH parameters. Defaults follow datatrove/FineWeb: word 5-grams, 14 bands × 8 rows. */
export interface MinHashOptions {
  /** Words per shingle (default 5). */
  ngram?: number;
  bands?: number;
  rows?: number;
  /** Seed for the hash family (default 1); signatures are only comparable under one seed. */
  seed?: number;
}

/** A prepared hash family: `bands × rows` hash functions. */
export interface MinHasher {
  readonly ngram: number;
  readonly bands: number;
  readonly rows: number;
  /** Signature of a text, or undefined when the text has no words. */
  signature(text: string): Int32Array | undefined;
  /** Signature from precomputed {@link dedupWordHashes}. */
  signatureOfHashes(wordHashes: Uint32Array): Int32Array | undefined;
  /** One 52-bit key per band. */
  bandKeys(signature: Int32Array): number[];
}

/**
 * Builds the hash family (options already validated; see createMinHasher). Each function is h_i(x) = xorshift16(((x ^ b_i) · a_i) mod 2³²) over
 * murmur-finalised shingle hashes: four integer ops per (shingle, function), which is what
 * makes 112 functions affordable in JS.
 */
export function buildMinHasher(options: {
  ngram: number;
  bands: number;
  rows: number;
  seed: number;
  /** Use the WebAssembly SIMD kernel when the runtime has one (default true; same results). */
  simd?: boolean;
}): MinHasher {
  const { ngram, bands, rows } = options;
  const k = bands * rows;
  const next = splitmix32(options.seed);
  const mulA = new Int32Array(k);
  const xorB = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    mulA[i] = next() | 1;
    xorB[i] = next();
  }
  // WebAssembly SIMD takes the functions in fours; the JS loop does the rest (and everything
  // where SIMD is unavailable or switched off).
  const kernel = options.simd === false ? undefined : simdMinima(mulA, xorB);
  const simdCount = kernel ? k & ~3 : 0;
  return {
    ngram,
    bands,
    rows,
    signature(text: string): Int32Array | undefined {
      return this.signatureOfHashes(dedupWordHashes(text));
    },
    signatureOfHashes(wordHashes: Uint32Array): Int32Array | undefined {
      if (wordHashes.length === 0) return undefined;
      const native = activeTextKernels.minhashSignature;
      if (native) {
        const signature = new Int32Array(k);
        native(wordHashes, ngram, mulA, xorB, signature);
        return signature;
      }
      const shingles = Math.max(1, wordHashes.length - ngram + 1);
      const width = Math.min(ngram, wordHashes.length);
      // Shingle hashes go straight into the SIMD kernel's memory when there is one.
      const heap = kernel?.reserve(shingles);
      const base = kernel ? kernel.dataStart : 0;
      const xs = heap ?? new Int32Array(shingles);
      for (let s = 0; s < shingles; s++) {
        let h = 0x27d4eb2f;
        for (let j = 0; j < width; j++) h = Math.imul(h ^ wordHashes[s + j]!, 0x01000193) + j;
        xs[base + s] = fmix32(h);
      }
      // Signed 32-bit minima: the order differs from unsigned, but any fixed order is a valid
      // permutation, and int32 keeps the hot loop free of float conversions.
      const sig = new Int32Array(k);
      if (kernel && heap) {
        kernel.minima(shingles, 0, simdCount);
        sig.set(kernel.heap.subarray(kernel.minStart, kernel.minStart + simdCount));
        minimaJs(kernel.heap.subarray(base, base + shingles), mulA, xorB, simdCount, sig);
      } else minimaJs(xs, mulA, xorB, 0, sig);
      return sig;
    },
    bandKeys(sig: Int32Array): number[] {
      const keys: number[] = [];
      for (let b = 0; b < bands; b++) {
        let h1 = 0x9e3779b9 ^ b;
        let h2 = 0x7f4a7c15 + b;
        for (let r = 0; r < rows; r++) {
          const v = sig[b * rows + r]!;
          h1 = Math.imul(h1 ^ v, 0x01000193);
          h2 = Math.imul(h2 + v, 0xcc9e2d51);
          h2 ^= h2 >>> 15;
        }
        keys.push((fmix32(h1) >>> 0) * 0x100000 + (fmix32(h2) & 0xfffff));
      }
      return keys;
    },
  };
}

/**
 * Minima of hash functions [from, k) over the shingle hashes `xs`, written to sig[from...]:
 * function-major, eight functions per pass, so each shingle hash is loaded once per eight
 * functions while the multipliers and running minima stay in registers (eight measured ~15 %
 * faster than four), then one at a time for the remainder. The WASM-SIMD kernel is the usual
 * path; this is its fallback.
 */
function minimaJs(
  xs: Int32Array,
  mulA: Int32Array,
  xorB: Int32Array,
  from: number,
  sig: Int32Array,
): void {
  const k = mulA.length;
  const shingles = xs.length;
  let i = from;
  for (; i + 8 <= k; i += 8) minOfEight(xs, shingles, mulA, xorB, i, sig);
  for (; i < k; i++) {
    const a = mulA[i]!;
    const b = xorB[i]!;
    let m = 0x7fffffff;
    for (let s = 0; s < shingles; s++) {
      let y = Math.imul(xs[s]! ^ b, a);
      y ^= y >>> 16;
      if (y < m) m = y;
    }
    sig[i] = m;
  }
}

/** Minima of hash functions i..i+7 over the shingle hashes, written to sig[i..i+7]. */
function minOfEight(
  xs: Int32Array,
  shingles: number,
  mulA: Int32Array,
  xorB: Int32Array,
  i: number,
  sig: Int32Array,
): void {
  const a0 = mulA[i]!;
  const a1 = mulA[i + 1]!;
  const a2 = mulA[i + 2]!;
  const a3 = mulA[i + 3]!;
  const a4 = mulA[i + 4]!;
  const a5 = mulA[i + 5]!;
  const a6 = mulA[i + 6]!;
  const a7 = mulA[i + 7]!;
  const b0 = xorB[i]!;
  const b1 = xorB[i + 1]!;
  const b2 = xorB[i + 2]!;
  const b3 = xorB[i + 3]!;
  const b4 = xorB[i + 4]!;
  const b5 = xorB[i + 5]!;
  const b6 = xorB[i + 6]!;
  const b7 = xorB[i + 7]!;
  let m0 = 0x7fffffff;
  let m1 = m0;
  let m2 = m0;
  let m3 = m0;
  let m4 = m0;
  let m5 = m0;
  let m6 = m0;
  let m7 = m0;
  for (let s = 0; s < shingles; s++) {
    const x = xs[s]!;
    let y0 = Math.imul(x ^ b0, a0);
    let y1 = Math.imul(x ^ b1, a1);
    let y2 = Math.imul(x ^ b2, a2);
    let y3 = Math.imul(x ^ b3, a3);
    let y4 = Math.imul(x ^ b4, a4);
    let y5 = Math.imul(x ^ b5, a5);
    let y6 = Math.imul(x ^ b6, a6);
    let y7 = Math.imul(x ^ b7, a7);
    y0 ^= y0 >>> 16;
    y1 ^= y1 >>> 16;
    y2 ^= y2 >>> 16;
    y3 ^= y3 >>> 16;
    y4 ^= y4 >>> 16;
    y5 ^= y5 >>> 16;
    y6 ^= y6 >>> 16;
    y7 ^= y7 >>> 16;
    if (y0 < m0) m0 = y0;
    if (y1 < m1) m1 = y1;
    if (y2 < m2) m2 = y2;
    if (y3 < m3) m3 = y3;
    if (y4 < m4) m4 = y4;
    if (y5 < m5) m5 = y5;
    if (y6 < m6) m6 = y6;
    if (y7 < m7) m7 = y7;
  }
  sig[i] = m0;
  sig[i + 1] = m1;
  sig[i + 2] = m2;
  sig[i + 3] = m3;
  sig[i + 4] = m4;
  sig[i + 5] = m5;
  sig[i + 6] = m6;
  sig[i + 7] = m7;
}

/** Fraction of equal positions: an unbiased estimate of the Jaccard similarity of the shingle sets. */
export function estimateJaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Probability that a pair with Jaccard `s` becomes an LSH candidate: 1 − (1 − s^rows)^bands. */
export function candidateProbability(options: {
  similarity: number;
  bands: number;
  rows: number;
}): number {
  return 1 - (1 - options.similarity ** options.rows) ** options.bands;
}

/** splitmix32: a tiny seeded generator for the hash-function parameters. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
}
