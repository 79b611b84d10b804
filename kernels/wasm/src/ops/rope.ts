import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, fusedOp, runFused } from './fusedAvailable.js';

/** Options of {@link applyRope}. */
export interface RopeOptions {
  /** Queries or keys [batch, seq, heads, dim], dim even. */
  x: tf.Tensor4D;
  /** cos(position · frequency) [seq, dim/2]. */
  cos: tf.Tensor2D;
  /** sin(position · frequency) [seq, dim/2]. */
  sin: tf.Tensor2D;
}

/** cos/sin tables [seq, dim/2] for rotate-half RoPE with the usual base^(−2i/dim) frequencies. */
export function ropeTables(options: { seq: number; dim: number; base?: number; offset?: number }): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const { seq, dim, base = 10000, offset = 0 } = options;
  const half = dim / 2;
  const cos = new Float32Array(seq * half);
  const sin = new Float32Array(seq * half);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (t + offset) * base ** ((-2 * i) / dim);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [seq, half]), sin: tf.tensor2d(sin, [seq, half]) };
}

/** The composed-op definition (reference for tests): x·cos + rotate_half(x)·sin. */
export function ropeReference({ x, cos, sin }: RopeOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const half = x.shape[3] / 2;
    const [x1, x2] = tf.split(x, [half, half], 3) as [tf.Tensor4D, tf.Tensor4D];
    const c = tf.reshape(cos, [1, cos.shape[0], 1, half]);
    const s = tf.reshape(sin, [1, sin.shape[0], 1, half]);
    return tf.concat([tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))], 3) as tf.Tensor4D;
  });
}

/** Rotate-half rotary embedding; fused (forward and backward) on wasm. */
export function applyRope(options: RopeOptions): tf.Tensor4D {
  const { x, cos, sin } = options;
  const [, seq, , dim] = x.shape;
  if (x.rank !== 4 || dim % 2 !== 0 || cos.shape[0] !== seq || cos.shape[1] !== dim / 2 || !tf.util.arraysEqual(cos.shape, sin.shape)) {
    throw new KernelsError(`applyRope: need x [batch, seq, heads, even dim] and cos/sin [seq, dim/2]; got x [${x.shape}], cos [${cos.shape}], sin [${sin.shape}]`, {
      code: 'SHAPE_MISMATCH',
      context: { op: 'applyRope', field: 'cos', shapes: { x: x.shape, cos: cos.shape, sin: sin.shape } },
    });
  }
  if (!fusedAvailable(KERNEL.rope) || x.dtype !== 'float32') return ropeReference(options);
  const op = fusedOp(3, ([xs, c, s], save) => {
    save([c!, s!]);
    return {
      value: runFused<tf.Tensor>(KERNEL.rope, { x: xs!, cos: c!, sin: s! }, { sign: 1 }),
      // The rotation is orthogonal, so its gradient is the inverse rotation; the tables
      // are constants and get zero gradients.
      gradFunc: (dy, saved) => [
        runFused<tf.Tensor>(KERNEL.rope, { x: dy, cos: saved[0]!, sin: saved[1]! }, { sign: -1 }),
        tf.zerosLike(saved[0]!),
        tf.zerosLike(saved[1]!),
      ],
    };
  });
  return op(x, cos, sin) as tf.Tensor4D;
}
