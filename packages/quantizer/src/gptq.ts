import { fail } from './errors.js';
import { packInt4 } from './int4Pack.js';
import { inverseUpperCholesky } from './linalg.js';
import type { Int4Weight } from './quantizedWeight.js';
import { type Int4GroupParams, type MatrixInput, int4Code, int4GroupParams, int4Groups } from './rtn.js';

/** Options of {@link gptqQuantizeInt4}. */
export interface GptqOptions extends MatrixInput {
  /** `cols×cols` Hessian (2/N)·XᵀX of the layer's calibration inputs (see HessianAccumulator). */
  hessian: Float64Array;
  /** Input columns per scale; must divide `cols`. */
  groupSize: number;
  /** Symmetric (zero = 8) or asymmetric int4. */
  symmetric: boolean;
  /** Damping added to the diagonal, as a fraction of its mean (default 0.01). */
  dampPercent?: number;
  /** Columns updated together before the lazy trailing update (default 128). */
  blockSize?: number;
}

/**
 * GPTQ (Frantar et al. 2022) int4 quantization: columns are quantized left to right and each
 * column's rounding error, scaled by the inverse Hessian's Cholesky factor, is pushed onto
 * the columns not yet quantized, minimising ‖WX − QX‖². Group scales are chosen when a
 * group's first column is reached, from the already error-compensated weights.
 */
export function gptqQuantizeInt4(options: GptqOptions): Int4Weight {
  const { data, rows, cols, groupSize, symmetric, name } = options;
  if (data.length !== rows * cols) fail('BAD_MATRIX', `${name ?? 'weight'}: ${data.length} values do not form [${rows}, ${cols}]`, { tensor: name });
  if (options.hessian.length !== cols * cols) {
    fail('BAD_HESSIAN', `${name ?? 'weight'}: Hessian has ${options.hessian.length} entries, expected ${cols}×${cols}`, { tensor: name });
  }
  const groups = int4Groups(cols, groupSize, name);
  const blockSize = options.blockSize ?? 128;
  const u = prepareInverse(options);

  // Work on Wᵀ so that one column of W (one input feature, all rows) is contiguous.
  const wt = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) wt[c * rows + r] = data[r * cols + c]!;
  zeroDeadColumns(options.hessian, wt, rows, cols);

  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const zeros = new Uint8Array(rows * groups);
  const params: Int4GroupParams[] = new Array(rows);
  const err = new Float64Array(blockSize * rows);

  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    for (let i = i1; i < i2; i++) {
      if (i % groupSize === 0) chooseGroupParams(wt, rows, i, groupSize, symmetric, params, scales, zeros, groups);
      const d = u[i * cols + i]!;
      const col = i * rows;
      const e = (i - i1) * rows;
      for (let r = 0; r < rows; r++) {
        const p = params[r]!;
        const w = wt[col + r]!;
        const q = int4Code(w, p);
        codes[r * cols + i] = q;
        err[e + r] = (w - (q - p.zero) * p.scale) / d;
      }
      // Immediate update of the rest of this block.
      for (let j = i + 1; j < i2; j++) axpy(wt, j * rows, err, e, -u[i * cols + j]!, rows);
    }
    // Lazy batch update of every column after the block.
    for (let j = i2; j < cols; j++) {
      for (let i = i1; i < i2; i++) axpy(wt, j * rows, err, (i - i1) * rows, -u[i * cols + j]!, rows);
    }
  }
  return { format: 'int4', rows, cols, groupSize, symmetric, packed: packInt4(codes, rows, cols), scales, zeros };
}

function axpy(y: Float64Array, yOff: number, x: Float64Array, xOff: number, a: number, n: number): void {
  if (a === 0) return;
  for (let r = 0; r < n; r++) y[yOff + r] += a * x[xOff + r]!;
}

function chooseGroupParams(
  wt: Float64Array,
  rows: number,
  col: number,
  groupSize: number,
  symmetric: boolean,
  params: Int4GroupParams[],
  scales: Float32Array,
  zeros: Uint8Array,
  groups: number,
): void {
  const g = col / groupSize;
  for (let r = 0; r < rows; r++) {
    const p = int4GroupParams(wt, col * rows + r, groupSize, rows, symmetric);
    params[r] = p;
    scales[r * groups + g] = p.scale;
    zeros[r * groups + g] = p.zero;
  }
}

/** Columns never activated carry no information: GPTQ sets them to 0 and H[i][i] to 1. */
function zeroDeadColumns(h: Float64Array, wt: Float64Array, rows: number, cols: number): void {
  for (let c = 0; c < cols; c++) if (h[c * cols + c] === 0) wt.fill(0, c * rows, (c + 1) * rows);
}

function prepareInverse(options: GptqOptions): Float64Array {
  const { cols, name } = options;
  const h = Float64Array.from(options.hessian);
  let mean = 0;
  for (let c = 0; c < cols; c++) {
    if (h[c * cols + c] === 0) h[c * cols + c] = 1;
    mean += h[c * cols + c]! / cols;
  }
  const damp = options.dampPercent ?? 0.01;
  if (!(damp >= 0)) fail('BAD_OPTION', `dampPercent must be ≥ 0, got ${damp}`, { field: 'dampPercent' });
  // Retry with stronger damping if rounding makes the Hessian indefinite (rank-deficient X).
  for (let attempt = 0, f = damp; attempt < 6; attempt++, f = Math.max(f * 10, 1e-4)) {
    const damped = Float64Array.from(h);
    for (let c = 0; c < cols; c++) damped[c * cols + c] += f * mean;
    try {
      return inverseUpperCholesky(damped, cols, name);
    } catch (error) {
      if (attempt === 5) throw error;
    }
  }
  return fail('HESSIAN_NOT_PD', `${name ?? 'weight'}: Hessian not positive definite`, { tensor: name });
}
