import { SeededRandom, tf } from '@deepline/core';
import { LayersError } from '../errors.js';
import { WeightStore } from '../weightStore.js';

/** Shape of a cross-attention layer. */
export interface CrossAttentionOptions {
  /** Width of the query sequence D. */
  dim: number;
  /** Width of the context (e.g. image features). */
  contextDim: number;
  nHeads: number;
  headDim: number;
}

/** Weight names/shapes under `prefix`: q_proj from the queries, k/v_proj from the context. */
export function crossAttentionWeightShapes(options: CrossAttentionOptions, prefix: string): { name: string; shape: number[] }[] {
  const { dim, contextDim, nHeads, headDim } = options;
  return [
    { name: `${prefix}.q_proj.weight`, shape: [nHeads * headDim, dim] },
    { name: `${prefix}.k_proj.weight`, shape: [nHeads * headDim, contextDim] },
    { name: `${prefix}.v_proj.weight`, shape: [nHeads * headDim, contextDim] },
    { name: `${prefix}.o_proj.weight`, shape: [dim, nHeads * headDim] },
  ];
}

/** Projected context keys/values `[B, H, M, hd]`, computed once per context and reusable across decode steps. */
export interface ContextKv {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
  /** Additive `[B, 1, 1, M]` mask (0 / -inf) when a padding mask was given. */
  mask?: tf.Tensor4D;
}

/** Inputs of a cross-attention call. */
export interface CrossAttentionForwardOptions {
  /** Queries `[B, S, D]`. */
  x: tf.Tensor3D;
  /** Context `[B, M, contextDim]` (ignored when contextKv is given). */
  context?: tf.Tensor3D;
  /** `[B, M]`, 1 = attend, 0 = padding (ignored when contextKv is given). */
  contextMask?: tf.Tensor2D;
  /** Precomputed keys/values from projectContext (decoding without re-projecting). */
  contextKv?: ContextKv;
}

/**
 * Cross-attention: queries from one sequence, keys and values from another (image
 * features, encoder states). Every query sees every unmasked context position; no RoPE.
 */
export class CrossAttention {
  constructor(
    readonly options: CrossAttentionOptions,
    readonly store: WeightStore,
    readonly prefix: string,
  ) {
    for (const f of ['dim', 'contextDim', 'nHeads', 'headDim'] as const) {
      if (!Number.isInteger(options[f]) || options[f] < 1) {
        throw new LayersError(`cross-attention option '${f}' must be a positive integer, got ${options[f]}`, {
          code: 'ATTENTION_OPTIONS',
          context: { field: f },
        });
      }
    }
  }

  /** A layer with its own normal(0, std) weights. */
  static create(options: CrossAttentionOptions & { seed?: number; std?: number; prefix?: string }): CrossAttention {
    const store = new WeightStore();
    const prefix = options.prefix ?? 'cross_attn';
    const rng = new SeededRandom(options.seed ?? 0);
    for (const w of crossAttentionWeightShapes(options, prefix)) {
      const value = tf.tensor2d(rng.normalArray(w.shape[0]! * w.shape[1]!, options.std ?? 0.02), w.shape as [number, number]);
      store.addLinear(w.name, value);
      value.dispose();
    }
    return new CrossAttention(options, store, prefix);
  }

  /** Projects a context once; the caller disposes the result (tf.dispose on its fields). */
  projectContext(context: tf.Tensor3D, contextMask?: tf.Tensor2D): ContextKv {
    const { nHeads: h, headDim: hd, contextDim } = this.options;
    const [b, m, width] = context.shape;
    if (width !== contextDim) {
      throw new LayersError(`cross-attention context has width ${width}, expected ${contextDim}`, {
        code: 'ATTENTION_INPUT',
        context: { field: 'context', expectedShape: [b, m, contextDim], actualShape: [...context.shape] },
      });
    }
    if (contextMask && (contextMask.shape[0] !== b || contextMask.shape[1] !== m)) {
      throw new LayersError(`contextMask is [${contextMask.shape.join(', ')}], expected [${b}, ${m}]`, {
        code: 'ATTENTION_INPUT',
        context: { field: 'contextMask', expectedShape: [b, m], actualShape: [...contextMask.shape] },
      });
    }
    return tf.tidy(() => {
      const heads = (name: string) =>
        tf.transpose(tf.reshape(this.store.linear(`${this.prefix}.${name}.weight`).apply(context), [b, m, h, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
      const out: ContextKv = { k: heads('k_proj'), v: heads('v_proj') };
      if (contextMask) {
        const keep = tf.greater(tf.reshape(contextMask, [b, 1, 1, m]), 0);
        out.mask = tf.where(keep, tf.zeros([b, 1, 1, m]), tf.fill([b, 1, 1, m], Number.NEGATIVE_INFINITY)) as tf.Tensor4D;
      }
      return out as unknown as tf.TensorContainer;
    }) as unknown as ContextKv;
  }

  forward(options: CrossAttentionForwardOptions): tf.Tensor3D {
    const { nHeads: h, headDim: hd } = this.options;
    const [b, s] = options.x.shape;
    return tf.tidy(() => {
      let kv = options.contextKv;
      if (!kv) {
        if (!options.context) {
          throw new LayersError('cross-attention needs context or contextKv', { code: 'ATTENTION_INPUT', context: { field: 'context' } });
        }
        kv = this.projectContext(options.context, options.contextMask);
      }
      const q = tf.transpose(tf.reshape(this.store.linear(`${this.prefix}.q_proj.weight`).apply(options.x), [b, s, h, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
      let scores = tf.mul(tf.matMul(q, kv.k, false, true), hd ** -0.5);
      if (kv.mask) scores = tf.add(scores, kv.mask);
      const o = tf.matMul(tf.softmax(scores) as tf.Tensor4D, kv.v);
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, s, h * hd]);
      return this.store.linear(`${this.prefix}.o_proj.weight`).apply(merged) as tf.Tensor3D;
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}
