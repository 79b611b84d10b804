import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, fusedOp, runFused } from './fusedAvailable.js';

/** Options of {@link rmsNorm}. */
export interface RmsNormOptions {
  /** Input [..., dim] (float32). */
  x: tf.Tensor;
  /** Per-channel gain [dim]. */
  weight: tf.Tensor;
  /** Added to mean(x²) before the square root (default 1e-6). */
  eps?: number;
}

/** The composed-op definition; also the reference the fused kernel is tested against. */
export function rmsNormReference({ x, weight, eps = 1e-6 }: RmsNormOptions): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight));
}

/**
 * RMSNorm: x · rsqrt(mean(x²) + eps) · weight over the last axis. On wasm with the kernels
 * registered it is one fused kernel forward and one backward; elsewhere composed tfjs ops.
 */
export function rmsNorm(options: RmsNormOptions): tf.Tensor {
  const { x, weight, eps = 1e-6 } = options;
  const dim = x.shape[x.shape.length - 1];
  if (weight.rank !== 1 || weight.shape[0] !== dim) {
    throw new KernelsError(`rmsNorm: weight must have shape [${dim}] to match x's last axis; got [${weight.shape}]`, {
      code: 'SHAPE_MISMATCH',
      context: { op: 'rmsNorm', field: 'weight', shapes: { x: x.shape, weight: weight.shape } },
    });
  }
  if (!fusedAvailable(KERNEL.rmsNorm) || x.dtype !== 'float32') return rmsNormReference(options);
  const op = fusedOp(2, ([xs, w], save) => {
    const [y, rstd] = runFused<tf.Tensor[]>(KERNEL.rmsNorm, { x: xs!, weight: w! }, { eps });
    save([xs!, w!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy, saved) => {
        const [sx, sw, srstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return runFused<tf.Tensor[]>(KERNEL.rmsNormGrad, { x: sx, weight: sw, rstd: srstd, dy });
      },
    };
  });
  return op(x, weight);
}
