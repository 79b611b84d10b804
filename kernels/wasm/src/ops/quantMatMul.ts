import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { QUANT_KERNEL } from '../kernels/quantKernels.js';
import { fusedAvailable, runFused } from './fusedAvailable.js';

/**
 * Packing layouts (what the quantizer must produce):
 * - int8, per output channel: q [out, in] signed bytes, row-major; W[o][i] = q[o][i] · scales[o].
 *   in must be a multiple of 4; the bytes travel as an int32 tensor [out, in/4] (the
 *   Int8Array's buffer reinterpreted, little-endian).
 * - int4, group-wise: two weights per byte, low nibble first, row-major [out, in/2];
 *   W[o][i] = (nibble − zeros[o][g]) · scales[o][g], g = floor(i / groupSize); scales and
 *   zeros are float32 [out, in/groupSize]. in must be a multiple of 8 and of groupSize; the
 *   bytes travel as an int32 tensor [out, in/8].
 */

/** Options of {@link int8MatMul}. */
export interface Int8MatMulOptions {
  /** Activations [..., in] float32. */
  x: tf.Tensor;
  /** int8 weight bytes as int32 [out, in/4] (see {@link int8WeightTensor}). */
  qweight: tf.Tensor;
  /** Per-output-channel scales [out]. */
  scales: tf.Tensor;
}

/** Options of {@link int4MatMul}. */
export interface Int4MatMulOptions {
  /** Activations [..., in] float32. */
  x: tf.Tensor;
  /** Nibble-packed weights as int32 [out, in/8] (see {@link int4WeightTensor}). */
  packed: tf.Tensor;
  /** Group scales [out, in/groupSize]. */
  scales: tf.Tensor;
  /** Group zero points [out, in/groupSize] (in nibble units, 0..15; may be fractional). */
  zeros: tf.Tensor;
  /** Weights per group along `in`. */
  groupSize: number;
}

/** Wraps int8 weight bytes [out, in] (row-major) as the int32 tensor the kernels read. */
export function int8WeightTensor(options: { bytes: Int8Array | Uint8Array; outFeatures: number; inFeatures: number }): tf.Tensor2D {
  const { bytes, outFeatures, inFeatures } = options;
  checkPacking('int8WeightTensor', bytes.length, outFeatures * inFeatures, inFeatures, 4);
  const copy = new Uint8Array(bytes.length);
  copy.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  return tf.tensor2d(new Int32Array(copy.buffer), [outFeatures, inFeatures / 4], 'int32');
}

/** Wraps nibble-packed int4 weight bytes [out, in/2] as the int32 tensor the kernels read. */
export function int4WeightTensor(options: { bytes: Uint8Array; outFeatures: number; inFeatures: number }): tf.Tensor2D {
  const { bytes, outFeatures, inFeatures } = options;
  checkPacking('int4WeightTensor', bytes.length, (outFeatures * inFeatures) / 2, inFeatures, 8);
  const copy = new Uint8Array(bytes);
  return tf.tensor2d(new Int32Array(copy.buffer), [outFeatures, inFeatures / 8], 'int32');
}

function checkPacking(op: string, got: number, want: number, inFeatures: number, multiple: number): void {
  if (inFeatures % multiple !== 0) {
    throw new KernelsError(`${op}: inFeatures (${inFeatures}) must be a multiple of ${multiple}`, {
      code: 'BAD_PACKING',
      context: { op, field: 'inFeatures' },
    });
  }
  if (got !== want) {
    throw new KernelsError(`${op}: expected ${want} bytes, got ${got}`, { code: 'BAD_PACKING', context: { op, field: 'bytes' } });
  }
}

function bytesOf(t: tf.Tensor): Uint8Array {
  const data = t.dataSync() as Int32Array;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Dequantizes int8 weights to float32 [out, in] (reference path and tests). */
export function dequantizeInt8({ qweight, scales }: Pick<Int8MatMulOptions, 'qweight' | 'scales'>): tf.Tensor2D {
  const [out, in4] = qweight.shape as [number, number];
  const q = new Int8Array(bytesOf(qweight).slice().buffer);
  const s = scales.dataSync();
  const w = new Float32Array(out * in4 * 4);
  for (let o = 0; o < out; o++) for (let i = 0; i < in4 * 4; i++) w[o * in4 * 4 + i] = q[o * in4 * 4 + i]! * s[o]!;
  return tf.tensor2d(w, [out, in4 * 4]);
}

/** Dequantizes int4 weights to float32 [out, in] (reference path and tests). */
export function dequantizeInt4({ packed, scales, zeros, groupSize }: Omit<Int4MatMulOptions, 'x'>): tf.Tensor2D {
  const [out, in8] = packed.shape as [number, number];
  const inFeatures = in8 * 8;
  const bytes = bytesOf(packed);
  const s = scales.dataSync();
  const z = zeros.dataSync();
  const groups = inFeatures / groupSize;
  const w = new Float32Array(out * inFeatures);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inFeatures; i++) {
      const byte = bytes[o * (inFeatures / 2) + (i >> 1)]!;
      const nibble = i & 1 ? byte >> 4 : byte & 15;
      const g = o * groups + Math.floor(i / groupSize);
      w[o * inFeatures + i] = (nibble - z[g]!) * s[g]!;
    }
  }
  return tf.tensor2d(w, [out, inFeatures]);
}

function shapeError(op: string, field: string, message: string, shapes: Record<string, number[]>): KernelsError {
  return new KernelsError(`${op}: ${message}`, { code: 'SHAPE_MISMATCH', context: { op, field, shapes } });
}

/** y = x · Wᵀ with W dequantized from per-channel int8 on the fly (wasm); reference elsewhere. */
export function int8MatMul(options: Int8MatMulOptions): tf.Tensor {
  const { x, qweight, scales } = options;
  const inFeatures = x.shape[x.shape.length - 1]!;
  const shapes = { x: x.shape, qweight: qweight.shape, scales: scales.shape };
  if (qweight.rank !== 2 || qweight.dtype !== 'int32' || qweight.shape[1]! * 4 !== inFeatures) {
    throw shapeError('int8MatMul', 'qweight', `qweight must be int32 [out, ${inFeatures / 4}] for x [..., ${inFeatures}]`, shapes);
  }
  if (scales.rank !== 1 || scales.shape[0] !== qweight.shape[0]) {
    throw shapeError('int8MatMul', 'scales', `scales must be [${qweight.shape[0]}]`, shapes);
  }
  if (fusedAvailable(QUANT_KERNEL.int8) && x.dtype === 'float32') return runFused<tf.Tensor>(QUANT_KERNEL.int8, { x, qweight, scales });
  return tf.tidy(() => {
    const w = dequantizeInt8(options);
    const flat = tf.reshape(x, [-1, inFeatures]);
    return tf.reshape(tf.matMul(flat, w, false, true), [...x.shape.slice(0, -1), w.shape[0]]);
  });
}

/** y = x · Wᵀ with W dequantized from group-wise int4 on the fly (wasm); reference elsewhere. */
export function int4MatMul(options: Int4MatMulOptions): tf.Tensor {
  const { x, packed, scales, zeros, groupSize } = options;
  const inFeatures = x.shape[x.shape.length - 1]!;
  const shapes = { x: x.shape, packed: packed.shape, scales: scales.shape, zeros: zeros.shape };
  if (!Number.isInteger(groupSize) || groupSize <= 0 || inFeatures % groupSize !== 0) {
    throw shapeError('int4MatMul', 'groupSize', `groupSize (${groupSize}) must be a positive divisor of in (${inFeatures})`, shapes);
  }
  if (packed.rank !== 2 || packed.dtype !== 'int32' || packed.shape[1]! * 8 !== inFeatures) {
    throw shapeError('int4MatMul', 'packed', `packed must be int32 [out, ${inFeatures / 8}] for x [..., ${inFeatures}]`, shapes);
  }
  const groupShape = [packed.shape[0]!, inFeatures / groupSize];
  for (const [field, t] of [['scales', scales], ['zeros', zeros]] as const) {
    if (!tf.util.arraysEqual(t.shape, groupShape)) throw shapeError('int4MatMul', field, `${field} must be [${groupShape}]`, shapes);
  }
  if (fusedAvailable(QUANT_KERNEL.int4) && x.dtype === 'float32') {
    return runFused<tf.Tensor>(QUANT_KERNEL.int4, { x, packed, scales, zeros }, { groupSize });
  }
  return tf.tidy(() => {
    const w = dequantizeInt4(options);
    const flat = tf.reshape(x, [-1, inFeatures]);
    return tf.reshape(tf.matMul(flat, w, false, true), [...x.shape.slice(0, -1), w.shape[0]]);
  });
}
