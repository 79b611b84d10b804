import { fusedOp, tf } from '@deepline/core';

/** Options of rmsNorm. */
export interface RmsNormOptions {
  /** Input `[..., n]`. */
  x: tf.Tensor;
  /** Scale `[n]`. */
  weight: tf.Tensor;
  /** Added to the mean square (DeepSeek: 1e-6). */
  eps: number;
}

/**
 * RMSNorm: `w ⊙ x / sqrt(mean(x², last) + eps)` (spec §3). Runs a kernel package's fused op
 * when one is registered in core for the active backend (same contract), else tfjs ops.
 */
export function rmsNorm({ x, weight, eps }: RmsNormOptions): tf.Tensor {
  const fused = fusedOp('rmsNorm');
  if (fused && x.dtype === 'float32') return fused({ x, weight, eps });
  return tf.tidy(() => {
    const meanSquare = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
  });
}
