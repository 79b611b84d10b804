import { fusedOp, tf } from '@deepline/core';
import { TrainerError } from './errors.js';

/**
 * Mean token cross-entropy of `logits` [B, L, V] against int32 `targets` [B, L]. Uses a
 * one-hot product rather than a gather, whose gradient (UnsortedSegmentSum) is slow on
 * the cpu backend.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  if (
    logits.rank !== 3 ||
    targets.rank !== 2 ||
    logits.shape[0] !== targets.shape[0] ||
    logits.shape[1] !== targets.shape[1]
  ) {
    throw new TrainerError(
      `crossEntropy: logits [${logits.shape}] do not match targets [${targets.shape}]`,
      {
        code: 'SHAPE_MISMATCH',
        context: { logits: [...logits.shape], targets: [...targets.shape] },
      },
    );
  }
  const fused = fusedOp('crossEntropy');
  return tf.tidy(() => {
    const v = logits.shape[2]!;
    // A kernel package's fused op (registered in core for this backend): the same mean over B·L rows.
    if (fused && logits.dtype === 'float32') {
      const labels = tf.reshape(tf.cast(targets, 'int32'), [-1]) as tf.Tensor1D;
      return fused({ logits: tf.reshape(logits, [-1, v]) as tf.Tensor2D, labels });
    }
    const logp = tf.logSoftmax(logits, -1);
    const oneHot = tf.cast(tf.oneHot(tf.cast(targets, 'int32'), v), 'float32');
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHot), -1))) as tf.Scalar;
  });
}

/**
 * The next-token objective on a packed batch `tokens` [B, S]: the model sees positions
 * 0..S-2 and each position predicts the following token.
 */
export function shiftTokens(tokens: tf.Tensor2D): { inputs: tf.Tensor2D; targets: tf.Tensor2D } {
  const [b, s] = tokens.shape;
  if (s < 2) {
    throw new TrainerError(`a training sequence needs at least 2 tokens, got ${s}`, {
      code: 'SEQUENCE_SHORT',
      context: { field: 'seqLen' },
    });
  }
  return {
    inputs: tf.slice(tokens, [0, 0], [b, s - 1]),
    targets: tf.slice(tokens, [0, 1], [b, s - 1]),
  };
}

/**
 * Multi-token-prediction loss (spec §9): `(λ/D) Σ_k CE_k`. `mtpLogits[k-1]` [B, L_k, V]
 * predicts, at position i of the inputs, the token k+1 places ahead, so its targets are
 * `tokens[:, k+1 : k+1+L_k]` of the full (unshifted) batch.
 */
export function mtpLoss(options: {
  mtpLogits: tf.Tensor[];
  tokens: tf.Tensor2D;
  lambda: number;
}): tf.Scalar {
  const { mtpLogits, tokens, lambda } = options;
  return tf.tidy(() => {
    const [b, s] = tokens.shape;
    const terms = mtpLogits.map((logits, i) => {
      const depth = i + 1;
      const len = logits.shape[1]!;
      if (depth + 1 + len > s) {
        throw new TrainerError(
          `MTP module ${depth} returned ${len} positions; at most ${s - depth - 1} fit a sequence of ${s}`,
          {
            code: 'SHAPE_MISMATCH',
            context: { field: `mtpLogits[${i}]` },
          },
        );
      }
      return crossEntropy(logits, tf.slice(tokens, [0, depth + 1], [b, len]));
    });
    return tf.mul(tf.addN(terms), lambda / mtpLogits.length) as tf.Scalar;
  });
}
