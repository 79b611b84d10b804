import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, fusedOp, runFused } from './fusedAvailable.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Unnormalised scores [n, vocab] (float32). */
  logits: tf.Tensor2D;
  /** Target class of each row [n] (int32, in [0, vocab)). */
  labels: tf.Tensor1D;
}

/** The composed-op definition (reference for tests): mean(−log softmax(logits)[label]). */
export function crossEntropyReference({ logits, labels }: CrossEntropyOptions): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, logits.shape[1], 1, 0, 'float32')), -1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * Mean softmax cross-entropy with integer labels. On wasm: one kernel forward (row softmax in
 * place, −log p[label]) and one backward ((p − onehot)·dy/n), instead of the dozen
 * [n, vocab]-sized kernels of logSoftmax + oneHot + mul + sum.
 */
export function crossEntropy(options: CrossEntropyOptions): tf.Scalar {
  const { logits, labels } = options;
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0] || labels.dtype !== 'int32') {
    throw new KernelsError(`crossEntropy: need logits [n, vocab] and int32 labels [n]; got logits [${logits.shape}], labels ${labels.dtype} [${labels.shape}]`, {
      code: 'SHAPE_MISMATCH',
      context: { op: 'crossEntropy', field: 'labels', shapes: { logits: logits.shape, labels: labels.shape } },
    });
  }
  if (!fusedAvailable(KERNEL.crossEntropy) || logits.dtype !== 'float32') return crossEntropyReference(options);
  const op = fusedOp(1, ([x], save) => {
    const [loss, probs] = runFused<tf.Tensor[]>(KERNEL.crossEntropy, { logits: x!, labels });
    save([probs!, labels]);
    return {
      value: loss!,
      gradFunc: (dy, saved) => [runFused<tf.Tensor>(KERNEL.crossEntropyGrad, { probs: saved[0]!, labels: saved[1]!, dy })],
    };
  });
  return op(logits) as tf.Scalar;
}
