import { fail } from './errors.js';

/**
 * Accumulates GPTQ's layer Hessian H = (2/N) Σ xᵀx over calibration rows x (the inputs of
 * one linear layer), in float64. Rows can arrive in any number of batches.
 */
export class HessianAccumulator {
  /** Input features (the linear's `in`). */
  readonly cols: number;
  /** Rows (tokens) seen so far. */
  count = 0;
  private readonly sum: Float64Array;

  constructor(cols: number) {
    if (!Number.isInteger(cols) || cols <= 0) fail('BAD_MATRIX', `Hessian width must be a positive integer, got ${cols}`, { field: 'cols' });
    this.cols = cols;
    this.sum = new Float64Array(cols * cols);
  }

  /** Adds `data.length / cols` rows (row-major `[rows][cols]`). */
  add(data: Float32Array): void {
    const n = this.cols;
    if (data.length % n !== 0) fail('BAD_MATRIX', `Hessian update of ${data.length} values is not a multiple of ${n} columns`, { field: 'cols' });
    const rows = data.length / n;
    const sum = this.sum;
    // Lower triangle only; the symmetric half is filled by hessian().
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      for (let i = 0; i < n; i++) {
        const xi = data[base + i]!;
        if (xi === 0) continue;
        const row = i * n;
        for (let j = 0; j <= i; j++) sum[row + j] += xi * data[base + j]!;
      }
    }
    this.count += rows;
  }

  /** The averaged Hessian `(2/N) XᵀX` (all zeros when no row was added). */
  hessian(): Float64Array {
    const n = this.cols;
    const h = new Float64Array(n * n);
    const f = this.count > 0 ? 2 / this.count : 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = this.sum[i * n + j]! * f;
        h[i * n + j] = v;
        h[j * n + i] = v;
      }
    }
    return h;
  }
}
