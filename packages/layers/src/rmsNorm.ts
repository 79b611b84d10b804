import { tf } from '@deepline/core';

/** Options of rmsNorm. */
export interface RmsNormOptions {
  /** Input `[..., n]`. */
  x: tf.Tensor;
  /** Scale `[n]`. */
  weight: tf.Tensor;
  /** Added to the mean square (DeepSeek: 1e-6). */
  eps: number;
}

/** RMSNorm: `w ⊙ x / sqrt(mean(x², last) + eps)` (spec §3). */
export function rmsNorm({ x, weight, eps }: RmsNormOptions): tf.Tensor {
  return tf.tidy(() => {
    const meanSquare = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
  });
}
