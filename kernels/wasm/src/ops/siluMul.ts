import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, fusedOp, runFused } from './fusedAvailable.js';

/** Options of {@link siluMul}. */
export interface SiluMulOptions {
  /** Gate projection (any shape, float32). */
  gate: tf.Tensor;
  /** Up projection (same shape as gate). */
  up: tf.Tensor;
}

/** The composed-op definition (reference for tests). */
export function siluMulReference({ gate, up }: SiluMulOptions): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
}

/** SwiGLU's gating: silu(gate) · up, fused forward and backward on wasm. */
export function siluMul(options: SiluMulOptions): tf.Tensor {
  const { gate, up } = options;
  if (!tf.util.arraysEqual(gate.shape, up.shape)) {
    throw new KernelsError(`siluMul: gate [${gate.shape}] and up [${up.shape}] must have the same shape`, {
      code: 'SHAPE_MISMATCH',
      context: { op: 'siluMul', field: 'up', shapes: { gate: gate.shape, up: up.shape } },
    });
  }
  if (!fusedAvailable(KERNEL.siluMul) || gate.dtype !== 'float32') return siluMulReference(options);
  const op = fusedOp(2, ([g, u], save) => {
    save([g!, u!]);
    return {
      value: runFused<tf.Tensor>(KERNEL.siluMul, { gate: g!, up: u! }),
      gradFunc: (dy, saved) => runFused<tf.Tensor[]>(KERNEL.siluMulGrad, { gate: saved[0]!, up: saved[1]!, dy }),
    };
  });
  return op(gate, up);
}
