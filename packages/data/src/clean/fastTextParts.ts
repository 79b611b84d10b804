// Building blocks of fastText inference (matrix rows, k-best heap, Huffman tree), each
// reproducing the reference implementation's float32 rounding order or tie-breaking.
import type { FastTextMatrix, ProductQuantizer } from './fastTextFormat.js';

/** Dot products with the output matrix's rows (dense or quantized), in fastText's rounding order. */
export class OutputRows {
  private readonly dim: number;
  private readonly dense?: Float32Array;
  private readonly codes?: Uint8Array;
  private readonly pq?: ProductQuantizer;
  private readonly normCodes?: Uint8Array;
  private readonly normPq?: ProductQuantizer;

  constructor(matrix: FastTextMatrix) {
    this.dim = matrix.cols;
    if (matrix.kind === 'dense') this.dense = matrix.data;
    else {
      this.codes = matrix.codes;
      this.pq = matrix.pq;
      this.normCodes = matrix.norm?.codes;
      this.normPq = matrix.norm?.pq;
    }
  }

  private norm(row: number): number {
    if (!this.normCodes) return 1;
    return this.normPq!.centroids[centroidOffset(this.normPq!, 0, this.normCodes[row]!)]!;
  }

  /** row · x, accumulated in float32 in column order. */
  dotRow(x: Float32Array, row: number): number {
    let res = 0;
    const dense = this.dense;
    if (dense) {
      const base = row * this.dim;
      for (let j = 0; j < this.dim; j++)
        res = Math.fround(res + Math.fround(dense[base + j]! * x[j]!));
      return res;
    }
    const pq = this.pq!;
    const codeBase = row * pq.nsubq;
    const centroids = pq.centroids;
    for (let m = 0; m < pq.nsubq; m++) {
      const c = centroidOffset(pq, m, this.codes![codeBase + m]!);
      const d = m === pq.nsubq - 1 ? pq.lastdsub : pq.dsub;
      const xBase = m * pq.dsub;
      for (let n = 0; n < d; n++)
        res = Math.fround(res + Math.fround(x[xBase + n]! * centroids[c + n]!));
    }
    return Math.fround(res * this.norm(row));
  }
}

/**
 * The input matrix's rows, summed as fastText's Vector::addRow sums them: element by element in
 * row order, rounding to float32 after every addition (and, for quantized rows with norms,
 * after each norm × centroid product).
 */
export class InputRows {
  private readonly dim: number;
  private readonly dense: Float32Array | null;
  private readonly codes: Uint8Array;
  private readonly pq: ProductQuantizer | null;
  private readonly normCodes: Uint8Array | null;
  private readonly normCentroids: Float32Array | null;
  private readonly acc: Float64Array;

  constructor(matrix: FastTextMatrix) {
    this.dim = matrix.cols;
    this.acc = new Float64Array(matrix.cols);
    if (matrix.kind === 'dense') {
      this.dense = matrix.data;
      this.codes = new Uint8Array(0);
      this.pq = null;
      this.normCodes = null;
      this.normCentroids = null;
    } else {
      this.dense = null;
      this.codes = matrix.codes;
      this.pq = matrix.pq;
      this.normCodes = matrix.norm?.codes ?? null;
      // The norm quantizer is one-dimensional: centroid i is the i-th float.
      this.normCentroids = matrix.norm?.pq.centroids ?? null;
    }
  }

  /** hidden = mean of rows[0..n), as fastText computes it. */
  meanInto(rows: Int32Array, n: number, hidden: Float32Array): void {
    if (this.dense) this.sumDense(rows, n);
    else this.sumQuantized(rows, n);
    const inv = Math.fround(1 / n);
    const acc = this.acc;
    for (let j = 0; j < this.dim; j++) hidden[j] = acc[j]! * inv;
  }

  /** Dense rows, eight columns at a time: eight independent float32 chains in registers. */
  private sumDense(rows: Int32Array, n: number): void {
    const data = this.dense!;
    const dim = this.dim;
    const acc = this.acc;
    let j = 0;
    for (; j + 8 <= dim; j += 8) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let a4 = 0;
      let a5 = 0;
      let a6 = 0;
      let a7 = 0;
      for (let i = 0; i < n; i++) {
        const o = rows[i]! * dim + j;
        a0 = Math.fround(a0 + data[o]!);
        a1 = Math.fround(a1 + data[o + 1]!);
        a2 = Math.fround(a2 + data[o + 2]!);
        a3 = Math.fround(a3 + data[o + 3]!);
        a4 = Math.fround(a4 + data[o + 4]!);
        a5 = Math.fround(a5 + data[o + 5]!);
        a6 = Math.fround(a6 + data[o + 6]!);
        a7 = Math.fround(a7 + data[o + 7]!);
      }
      acc[j] = a0;
      acc[j + 1] = a1;
      acc[j + 2] = a2;
      acc[j + 3] = a3;
      acc[j + 4] = a4;
      acc[j + 5] = a5;
      acc[j + 6] = a6;
      acc[j + 7] = a7;
    }
    for (; j < dim; j++) {
      let a = 0;
      for (let i = 0; i < n; i++) a = Math.fround(a + data[rows[i]! * dim + j]!);
      acc[j] = a;
    }
  }

  /**
   * Quantized rows decoded on the fly: a row is nsubq one-byte codes into small centroid
   * tables that stay in L1, far more cache-friendly than a decoded float table.
   */
  private sumQuantized(rows: Int32Array, n: number): void {
    const pq = this.pq!;
    const { nsubq, dsub, lastdsub } = pq;
    const centroids = pq.centroids;
    const codes = this.codes;
    const acc = this.acc;
    acc.fill(0);
    const normCodes = this.normCodes;
    const normCentroids = this.normCentroids;
    const lastBase = (nsubq - 1) * 256 * dsub;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      const codeBase = row * nsubq;
      if (normCodes === null) {
        for (let m = 0; m < nsubq - 1; m++) {
          const c = (m * 256 + codes[codeBase + m]!) * dsub;
          const x = m * dsub;
          for (let q = 0; q < dsub; q++) acc[x + q] = Math.fround(acc[x + q]! + centroids[c + q]!);
        }
        const c = lastBase + codes[codeBase + nsubq - 1]! * lastdsub;
        const x = (nsubq - 1) * dsub;
        for (let q = 0; q < lastdsub; q++)
          acc[x + q] = Math.fround(acc[x + q]! + centroids[c + q]!);
      } else {
        const alpha = normCentroids![normCodes[row]!]!;
        for (let m = 0; m < nsubq - 1; m++) {
          const c = (m * 256 + codes[codeBase + m]!) * dsub;
          const x = m * dsub;
          for (let q = 0; q < dsub; q++)
            acc[x + q] = Math.fround(acc[x + q]! + Math.fround(alpha * centroids[c + q]!));
        }
        const c = lastBase + codes[codeBase + nsubq - 1]! * lastdsub;
        const x = (nsubq - 1) * dsub;
        for (let q = 0; q < lastdsub; q++)
          acc[x + q] = Math.fround(acc[x + q]! + Math.fround(alpha * centroids[c + q]!));
      }
    }
  }
}

function centroidOffset(pq: ProductQuantizer, m: number, code: number): number {
  return m === pq.nsubq - 1 ? m * 256 * pq.dsub + code * pq.lastdsub : (m * 256 + code) * pq.dsub;
}

/**
 * The k best (score, label) pairs, kept as fastText keeps them: a binary heap under
 * `a.score > b.score`, maintained with the same steps as libc++'s push_heap / pop_heap /
 * sort_heap, so that labels with equal scores come out in fastText's order too.
 */
export class TopK {
  scores: number[] = [];
  labels: number[] = [];
  k = 1;

  reset(k: number): void {
    this.k = k;
    this.scores.length = 0;
    this.labels.length = 0;
  }

  get full(): boolean {
    return this.scores.length === this.k;
  }

  /** The worst kept score, at the heap's root (valid when non-empty). */
  get worst(): number {
    return this.scores[0]!;
  }

  push(score: number, label: number): void {
    this.scores.push(score);
    this.labels.push(label);
    this.siftUp(this.scores.length);
    if (this.scores.length > this.k) {
      this.popHeap(this.scores.length);
      this.scores.pop();
      this.labels.pop();
    }
  }

  /** sort_heap: afterwards the pairs run best first. */
  sort(): void {
    for (let n = this.scores.length; n > 1; n--) this.popHeap(n);
  }

  /** libc++ __sift_up over the first `len` elements (the new one is last). */
  private siftUp(len: number): void {
    if (len <= 1) return;
    const s = this.scores;
    const l = this.labels;
    let last = len - 1;
    let parent = (len - 2) >> 1;
    if (!(s[parent]! > s[last]!)) return;
    const ts = s[last]!;
    const tl = l[last]!;
    for (;;) {
      s[last] = s[parent]!;
      l[last] = l[parent]!;
      last = parent;
      if (parent === 0) break;
      parent = (parent - 1) >> 1;
      if (!(s[parent]! > ts)) break;
    }
    s[last] = ts;
    l[last] = tl;
  }

  /** libc++ __pop_heap (Floyd's sift-down, then sift-up) over the first `len` elements. */
  private popHeap(len: number): void {
    if (len <= 1) return;
    const s = this.scores;
    const l = this.labels;
    const topScore = s[0]!;
    const topLabel = l[0]!;
    let hole = 0;
    let child = 0;
    for (;;) {
      child = 2 * child + 1;
      if (child + 1 < len && s[child]! > s[child + 1]!) child++;
      s[hole] = s[child]!;
      l[hole] = l[child]!;
      hole = child;
      if (child > (len - 2) >> 1) break;
    }
    const last = len - 1;
    if (hole === last) {
      s[hole] = topScore;
      l[hole] = topLabel;
    } else {
      s[hole] = s[last]!;
      l[hole] = l[last]!;
      s[last] = topScore;
      l[last] = topLabel;
      this.siftUp(hole + 1);
    }
  }
}

/** fastText's Huffman tree over label counts (sorted by decreasing count); leaves are 0..n-1. */
export function buildHuffmanTree(counts: number[]): { left: Int32Array; right: Int32Array } {
  const osz = counts.length;
  const total = Math.max(1, 2 * osz - 1);
  const left = new Int32Array(total).fill(-1);
  const right = new Int32Array(total).fill(-1);
  const count = new Float64Array(total).fill(1e15);
  for (let i = 0; i < osz; i++) count[i] = counts[i]!;
  let leaf = osz - 1;
  let node = osz;
  for (let i = osz; i < 2 * osz - 1; i++) {
    const mini = [0, 0];
    for (let j = 0; j < 2; j++) {
      if (leaf >= 0 && count[leaf]! < count[node]!) mini[j] = leaf--;
      else mini[j] = node++;
    }
    left[i] = mini[0]!;
    right[i] = mini[1]!;
    count[i] = count[mini[0]!]! + count[mini[1]!]!;
  }
  return { left, right };
}
