import { tf } from '@deepline/core';

/** Result of clipGradients. */
export interface ClipResult {
  /** Gradients after scaling (new tensors the caller disposes). */
  grads: Map<string, tf.Tensor>;
  /** Global L2 norm before clipping (NaN/Infinity when a gradient is not finite). */
  norm: number;
  /** The factor applied (1 when not clipped). */
  scale: number;
}

/** Global L2 norm √(Σ‖g‖²) over all gradients, read back to JS. */
export function globalNorm(grads: Iterable<tf.Tensor>): number {
  const list = [...grads];
  if (list.length === 0) return 0;
  const sq = tf.tidy(() => tf.addN(list.map((g) => tf.sum(tf.square(g)))));
  const value = sq.dataSync()[0]!;
  sq.dispose();
  return Math.sqrt(value);
}

/**
 * Global-norm clipping (as torch.nn.utils.clip_grad_norm_): when the norm exceeds
 * `maxNorm`, every gradient is multiplied by maxNorm/(norm + 1e-6). `maxNorm` ≤ 0 or
 * Infinity disables clipping (the norm is still measured, for logging and the NaN check).
 */
export function clipGradients(options: {
  grads: Map<string, tf.Tensor>;
  maxNorm: number;
}): ClipResult {
  const norm = globalNorm(options.grads.values());
  const clip =
    options.maxNorm > 0 &&
    Number.isFinite(options.maxNorm) &&
    Number.isFinite(norm) &&
    norm > options.maxNorm;
  const scale = clip ? options.maxNorm / (norm + 1e-6) : 1;
  const grads = new Map<string, tf.Tensor>();
  for (const [name, g] of options.grads)
    grads.set(name, scale === 1 ? tf.clone(g) : tf.tidy(() => tf.mul(g, scale)));
  return { grads, norm, scale };
}
