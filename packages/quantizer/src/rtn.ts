import { float16BitsToFloat32, float32ToFloat16Bits } from '@deepline/core';
import { fail } from './errors.js';
import { packInt4 } from './int4Pack.js';
import type { Int4Weight, Int8Weight } from './quantizedWeight.js';

/** A float32 matrix in HF `[out, in]` row-major layout. */
export interface MatrixInput {
  /** `rows · cols` values, row-major. */
  data: Float32Array;
  /** Output features. */
  rows: number;
  /** Input features. */
  cols: number;
  /** Tensor name, for error messages. */
  name?: string;
}

/** Rounds to the nearest float16 value (scales are stored as F16 on disk, so keep them exact). */
export function roundToFloat16(x: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(x));
}

/** Round half away from zero (C `roundf`), the rounding every block format here uses. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function checkMatrix({ data, rows, cols, name }: MatrixInput): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0 || data.length !== rows * cols) {
    fail('BAD_MATRIX', `${name ?? 'weight'}: ${data.length} values do not form a [${rows}, ${cols}] matrix`, {
      tensor: name,
      shape: [rows, cols],
    });
  }
}

function finiteScale(scale: number, name: string | undefined, row: number): number {
  if (!Number.isFinite(scale)) {
    fail('SCALE_OVERFLOW', `${name ?? 'weight'}: row ${row} has a non-finite or float16-overflowing scale`, { tensor: name });
  }
  return scale;
}

/** Int8 per-output-channel symmetric round-to-nearest: scale = amax/127 (float16-rounded). */
export function quantizeInt8(input: MatrixInput): Int8Weight {
  checkMatrix(input);
  const { data, rows, cols, name } = input;
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let amax = 0;
    for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(data[base + c]!));
    const scale = finiteScale(roundToFloat16(amax / 127), name, r);
    scales[r] = scale;
    if (scale === 0) continue;
    const inv = 1 / scale;
    for (let c = 0; c < cols; c++) q[base + c] = Math.max(-127, Math.min(127, roundHalfAway(data[base + c]! * inv)));
  }
  return { format: 'int8', rows, cols, q, scales };
}

/** Scale and zero point of one int4 group (values read with a stride). */
export interface Int4GroupParams {
  scale: number;
  zero: number;
}

/**
 * Int4 parameters of `count` values starting at `start` with `stride`.
 * Symmetric (llama.cpp Q4_0 style): the value of largest magnitude maps to code 0, so
 * `scale = m / −8` and `zero = 8` use all 16 levels. Asymmetric: `scale = (max−min)/15`,
 * `zero = round(−min/scale)`. Scales are float16-rounded.
 */
export function int4GroupParams(values: ArrayLike<number>, start: number, count: number, stride: number, symmetric: boolean): Int4GroupParams {
  if (symmetric) {
    let m = 0;
    for (let i = 0; i < count; i++) {
      const v = values[start + i * stride]!;
      if (Math.abs(v) > Math.abs(m)) m = v;
    }
    return { scale: roundToFloat16(m / -8), zero: 8 };
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const v = values[start + i * stride]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // A constant group still needs its value representable: widen the range to include 0.
  if (hi - lo === 0) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  const scale = roundToFloat16((hi - lo) / 15);
  if (scale === 0) return { scale: 0, zero: 0 };
  return { scale, zero: Math.max(0, Math.min(15, roundHalfAway(-lo / scale))) };
}

/** The int4 code (0..15) of `x` under `params`. */
export function int4Code(x: number, params: Int4GroupParams): number {
  if (params.scale === 0) return params.zero;
  return Math.max(0, Math.min(15, roundHalfAway(x / params.scale) + params.zero));
}

/** Options of {@link quantizeInt4}. */
export interface QuantizeInt4Options extends MatrixInput {
  /** Input columns per scale (32, 64, 128…); must divide `cols`. */
  groupSize: number;
  /** Symmetric (zero = 8) or asymmetric (per-group zero point). */
  symmetric: boolean;
}

/** Checks the int4 group size against the matrix; returns the number of groups per row. */
export function int4Groups(cols: number, groupSize: number, name?: string): number {
  if (!Number.isInteger(groupSize) || groupSize < 2 || groupSize % 2 !== 0) {
    fail('BAD_GROUP_SIZE', `groupSize must be an even integer ≥ 2, got ${groupSize}`, { field: 'groupSize', tensor: name });
  }
  if (cols % groupSize !== 0) {
    fail('BAD_GROUP_SIZE', `${name ?? 'weight'}: ${cols} input columns are not a multiple of groupSize ${groupSize}`, {
      field: 'groupSize',
      tensor: name,
    });
  }
  return cols / groupSize;
}

/** Int4 group-wise round-to-nearest quantization. */
export function quantizeInt4(options: QuantizeInt4Options): Int4Weight {
  checkMatrix(options);
  const { data, rows, cols, groupSize, symmetric, name } = options;
  const groups = int4Groups(cols, groupSize, name);
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const zeros = new Uint8Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const start = r * cols + g * groupSize;
      const params = int4GroupParams(data, start, groupSize, 1, symmetric);
      finiteScale(params.scale, name, r);
      scales[r * groups + g] = params.scale;
      zeros[r * groups + g] = params.zero;
      for (let i = 0; i < groupSize; i++) codes[start + i] = int4Code(data[start + i]!, params);
    }
  }
  return { format: 'int4', rows, cols, groupSize, symmetric, packed: packInt4(codes, rows, cols), scales, zeros };
}
