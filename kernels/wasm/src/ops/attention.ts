import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, fusedOp, runFused } from './fusedAvailable.js';

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Queries [batch, tq, heads, dim]. */
  q: tf.Tensor4D;
  /** Keys [batch, tk, heads, dim]. */
  k: tf.Tensor4D;
  /** Values [batch, tk, heads, dim]. */
  v: tf.Tensor4D;
  /** Causal mask: query i sees keys j ≤ i + tk − tq (default true). */
  causal?: boolean;
  /** Score scale (default 1/sqrt(dim)); must be > 0. */
  scale?: number;
}

/** The composed-op definition (reference for tests): softmax(mask(QKᵀ·scale))·V. */
export function attentionReference({ q, k, v, causal = true, scale }: AttentionOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const [, tq, , dim] = q.shape;
    const tk = k.shape[1];
    const s = scale ?? 1 / Math.sqrt(dim);
    const qh = tf.transpose(q, [0, 2, 1, 3]);
    const kh = tf.transpose(k, [0, 2, 1, 3]);
    const vh = tf.transpose(v, [0, 2, 1, 3]);
    let scores = tf.mul(tf.matMul(qh, kh, false, true), s);
    if (causal) {
      const allowed = tf.lessEqual(tf.reshape(tf.range(0, tk, 1, 'int32'), [1, tk]), tf.reshape(tf.range(tk - tq, tk, 1, 'int32'), [tq, 1]));
      scores = tf.where(allowed, scores, tf.fill(scores.shape, -1e9));
    }
    return tf.transpose(tf.matMul(tf.softmax(scores), vh), [0, 2, 1, 3]) as tf.Tensor4D;
  });
}

function checkShapes({ q, k, v, scale }: AttentionOptions): void {
  const ok =
    q.rank === 4 &&
    k.rank === 4 &&
    tf.util.arraysEqual(k.shape, v.shape) &&
    q.shape[0] === k.shape[0] &&
    q.shape[2] === k.shape[2] &&
    q.shape[3] === k.shape[3];
  if (!ok) {
    throw new KernelsError(`attention: need q [B, Tq, H, D] and k, v [B, Tk, H, D]; got q [${q.shape}], k [${k.shape}], v [${v.shape}]`, {
      code: 'SHAPE_MISMATCH',
      context: { op: 'attention', field: 'k', shapes: { q: q.shape, k: k.shape, v: v.shape } },
    });
  }
  if (scale !== undefined && !(scale > 0)) {
    throw new KernelsError(`attention: scale must be > 0; got ${scale}`, { code: 'BAD_ATTR', context: { op: 'attention', field: 'scale' } });
  }
}

/**
 * Scaled dot-product attention on [batch, seq, heads, dim] tensors (no transposes needed).
 * On wasm: one kernel forward (scores, mask, softmax, weighted sum per head, in place on the
 * heap) and one backward; elsewhere composed tfjs ops.
 */
export function attention(options: AttentionOptions): tf.Tensor4D {
  checkShapes(options);
  const { q, k, v, causal = true } = options;
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[3]);
  if (!fusedAvailable(KERNEL.attention) || q.dtype !== 'float32') return attentionReference({ ...options, scale });
  const attrs = { scale, causal };
  const op = fusedOp(3, ([qs, ks, vs], save) => {
    const [out, probs] = runFused<tf.Tensor[]>(KERNEL.attention, { q: qs!, k: ks!, v: vs! }, attrs);
    save([qs!, ks!, vs!, probs!]);
    return {
      value: out!,
      gradFunc: (dy, saved) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return runFused<tf.Tensor[]>(KERNEL.attentionGrad, { q: sq, k: sk, v: sv, probs: sp, dy }, attrs);
      },
    };
  });
  return op(q, k, v) as tf.Tensor4D;
}
