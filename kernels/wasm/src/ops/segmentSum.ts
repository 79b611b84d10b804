import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, fusedOp } from './fusedAvailable.js';

/** Options of {@link segmentSum}. */
export interface SegmentSumOptions {
  /** Rows to combine [n, ...inner] (float32). */
  x: tf.Tensor;
  /** Destination row of each input row [n] (int32); ids outside [0, numSegments) are dropped. */
  segmentIds: tf.Tensor1D;
  numSegments: number;
}

/**
 * out[s] = Σ x[r] over rows with segmentIds[r] = s: the sparse-MoE combine / scatter-add.
 * Same value as tf.unsortedSegmentSum, but its gradient is a plain row gather (tfjs' own
 * gradient builds broadcast boolean masks, the slowest kernels of a wasm MoE step).
 */
export function segmentSum({ x, segmentIds, numSegments }: SegmentSumOptions): tf.Tensor {
  if (segmentIds.rank !== 1 || segmentIds.shape[0] !== x.shape[0] || segmentIds.dtype !== 'int32') {
    throw new KernelsError(`segmentSum: segmentIds must be int32 [${x.shape[0]}]; got ${segmentIds.dtype} [${segmentIds.shape}]`, {
      code: 'SHAPE_MISMATCH',
      context: { op: 'segmentSum', field: 'segmentIds', shapes: { x: x.shape, segmentIds: segmentIds.shape } },
    });
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new KernelsError(`segmentSum: numSegments must be a non-negative integer; got ${numSegments}`, {
      code: 'BAD_ATTR',
      context: { op: 'segmentSum', field: 'numSegments' },
    });
  }
  // Only with deepline's pack active (core registers a wasm UnsortedSegmentSum of its own).
  if (!fusedAvailable(KERNEL.rmsNorm) || x.dtype !== 'float32') return tf.unsortedSegmentSum(x, segmentIds, numSegments);
  // The ids are read once on the host: the gradient needs them and they are small.
  const values = segmentIds.dataSync();
  const inRange = values.every((id) => id >= 0 && id < numSegments);
  const op = fusedOp(1, ([xs]) => ({
    value: tf.unsortedSegmentSum(xs!, segmentIds, numSegments),
    gradFunc: (dy) => {
      const ids = tf.tensor1d(values, 'int32');
      if (inRange) return [tf.gather(dy, ids)];
      // Dropped rows get zero gradient; masking is only needed in that (rare) case.
      const keep = Float32Array.from(values, (id) => (id >= 0 && id < numSegments ? 1 : 0));
      const safe = tf.clipByValue(ids, 0, Math.max(0, numSegments - 1));
      return [tf.mul(tf.gather(dy, safe), tf.reshape(tf.tensor1d(keep), [-1, ...x.shape.slice(1).map(() => 1)]))];
    },
  }));
  return op(x);
}
