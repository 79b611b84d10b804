import { fusedOp, tf } from '@deepline/core';
import { type DeepseekConfig, yarnEnabled } from './config.js';
import type { AttentionImpl, LayerKvCache } from './kvCache.js';
import { rmsNorm } from './rmsNorm.js';
import { type RopeTables, applyRope, yarnMscale } from './rope.js';
import type { WeightStore } from './weightStore.js';

/** Softmax scale `dq^-0.5`, times `m²` under YaRN (spec §5). */
export function mlaSoftmaxScale(config: DeepseekConfig): number {
  const base = (config.qkNopeHeadDim + config.qkRopeHeadDim) ** -0.5;
  if (!yarnEnabled(config)) return base;
  const m = yarnMscale(config.ropeFactor, config.mscale);
  return base * m * m;
}

/** HF weight names and shapes of one MLA layer under `prefix` (e.g. `model.layers.0.self_attn`). */
export function mlaWeightShapes(config: DeepseekConfig, prefix: string): { name: string; shape: number[]; kind: 'linear' | 'norm' }[] {
  const c = config;
  const dq = c.qkNopeHeadDim + c.qkRopeHeadDim;
  const query: { name: string; shape: number[]; kind: 'linear' | 'norm' }[] =
    c.qLoraRank === 0
      ? [{ name: `${prefix}.q_proj.weight`, shape: [c.nHeads * dq, c.dim], kind: 'linear' }]
      : [
          { name: `${prefix}.q_a_proj.weight`, shape: [c.qLoraRank, c.dim], kind: 'linear' },
          { name: `${prefix}.q_a_layernorm.weight`, shape: [c.qLoraRank], kind: 'norm' },
          { name: `${prefix}.q_b_proj.weight`, shape: [c.nHeads * dq, c.qLoraRank], kind: 'linear' },
        ];
  return [
    ...query,
    { name: `${prefix}.kv_a_proj_with_mqa.weight`, shape: [c.kvLoraRank + c.qkRopeHeadDim, c.dim], kind: 'linear' },
    { name: `${prefix}.kv_a_layernorm.weight`, shape: [c.kvLoraRank], kind: 'norm' },
    { name: `${prefix}.kv_b_proj.weight`, shape: [c.nHeads * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank], kind: 'linear' },
    { name: `${prefix}.o_proj.weight`, shape: [c.dim, c.nHeads * c.vHeadDim], kind: 'linear' },
  ];
}

/** Inputs of one MLA call. */
export interface MlaForwardOptions {
  /** Normalised hidden states `[B, S, D]`. */
  x: tf.Tensor3D;
  /** RoPE tables for positions startPos..startPos+S-1. */
  rope: RopeTables;
  /** Additive mask `[S, T]` (0 / -inf), or undefined when every key is visible (S = 1). */
  mask?: tf.Tensor2D;
  /** First position of this chunk (for the cache). */
  startPos: number;
  cache?: LayerKvCache;
  impl: AttentionImpl;
}

/**
 * Multi-head Latent Attention (spec §5): optional query LoRA, a compressed KV latent with
 * a single shared RoPE key, and two equivalent computations (naive / absorbed).
 */
export class MultiHeadLatentAttention {
  constructor(
    private readonly config: DeepseekConfig,
    private readonly store: WeightStore,
    /** HF prefix, e.g. `model.layers.0.self_attn`. */
    readonly prefix: string,
  ) {}

  forward(options: MlaForwardOptions): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const { x } = options;
      const [b, s] = x.shape;
      const dq = c.qkNopeHeadDim + c.qkRopeHeadDim;
      const q = tf.reshape(this.query(x), [b, s, c.nHeads, dq]);
      const [qNope, qPeRaw] = tf.split(q, [c.qkNopeHeadDim, c.qkRopeHeadDim], 3);
      const qPe = applyRope(qPeRaw!, options.rope);
      const kv = this.store.linear(`${this.prefix}.kv_a_proj_with_mqa.weight`).apply(x);
      const [latentRaw, kPeRaw] = tf.split(kv, [c.kvLoraRank, c.qkRopeHeadDim], 2);
      const kPe = tf.reshape(applyRope(tf.reshape(kPeRaw!, [b, s, 1, c.qkRopeHeadDim]), options.rope), [b, s, c.qkRopeHeadDim]);
      const latent = rmsNorm({ x: latentRaw!, weight: this.store.param(`${this.prefix}.kv_a_layernorm.weight`), eps: c.rmsNormEps });
      const o =
        options.impl === 'naive'
          ? this.naive(qNope!, qPe, latent, kPe, options)
          : this.absorbed(qNope!, qPe, latent, kPe, options);
      return this.store.linear(`${this.prefix}.o_proj.weight`).apply(o) as tf.Tensor3D;
    });
  }

  private query(x: tf.Tensor3D): tf.Tensor {
    const c = this.config;
    if (c.qLoraRank === 0) return this.store.linear(`${this.prefix}.q_proj.weight`).apply(x);
    const qa = this.store.linear(`${this.prefix}.q_a_proj.weight`).apply(x);
    const normed = rmsNorm({ x: qa, weight: this.store.param(`${this.prefix}.q_a_layernorm.weight`), eps: c.rmsNormEps });
    return this.store.linear(`${this.prefix}.q_b_proj.weight`).apply(normed);
  }

  /** Expands the latent to per-head keys/values and attends in head space. */
  private naive(qNope: tf.Tensor, qPe: tf.Tensor, latent: tf.Tensor, kPe: tf.Tensor, options: MlaForwardOptions): tf.Tensor {
    const c = this.config;
    const [b, s] = options.x.shape;
    const h = c.nHeads;
    const kvb = tf.reshape(this.store.linear(`${this.prefix}.kv_b_proj.weight`).apply(latent), [b, s, h, c.qkNopeHeadDim + c.vHeadDim]);
    const [kNope, vNew] = tf.split(kvb, [c.qkNopeHeadDim, c.vHeadDim], 3);
    const kPeHeads = tf.tile(tf.reshape(kPe, [b, s, 1, c.qkRopeHeadDim]), [1, 1, h, 1]);
    let k = tf.concat([kNope!, kPeHeads], 3);
    let v = vNew!;
    if (options.cache) [k, v] = options.cache.write(options.startPos, k, v);
    const fused = fusedOp('attention');
    const causal = fusedCausalFlag(options.mask, s, k.shape[1]!);
    if (fused && causal !== undefined && k.dtype === 'float32') {
      return fusedHeadAttention(fused, { q: tf.concat([qNope, qPe], 3), k, v, causal, scale: mlaSoftmaxScale(c) });
    }
    const qh = tf.transpose(tf.concat([qNope, qPe], 3), [0, 2, 1, 3]);
    const kh = tf.transpose(k, [0, 2, 1, 3]);
    let scores = tf.mul(tf.matMul(qh as tf.Tensor4D, kh as tf.Tensor4D, false, true), mlaSoftmaxScale(c));
    if (options.mask) scores = tf.add(scores, options.mask);
    const p = tf.softmax(scores);
    const o = tf.matMul(p as tf.Tensor4D, tf.transpose(v, [0, 2, 1, 3]) as tf.Tensor4D);
    return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, s, h * c.vHeadDim]);
  }

  /** Folds W_UK into the query and W_UV after attention: attends over the cached latent. */
  private absorbed(qNope: tf.Tensor, qPe: tf.Tensor, latentNew: tf.Tensor, kPeNew: tf.Tensor, options: MlaForwardOptions): tf.Tensor {
    const c = this.config;
    const [b, s] = options.x.shape;
    const h = c.nHeads;
    const rkv = c.kvLoraRank;
    const w = tf.reshape(this.store.linear(`${this.prefix}.kv_b_proj.weight`).weightMatrix(), [h, c.qkNopeHeadDim + c.vHeadDim, rkv]);
    const [wUK, wUV] = tf.split(w, [c.qkNopeHeadDim, c.vHeadDim], 1);
    // [B,S,H,dn] -> [H, B·S, dn] · [H, dn, rkv] -> back to [B, S·H, rkv]
    const qNopeHeads = tf.reshape(tf.transpose(qNope, [2, 0, 1, 3]), [h, b * s, c.qkNopeHeadDim]);
    const qLatHeads = tf.matMul(qNopeHeads as tf.Tensor3D, wUK as tf.Tensor3D);
    const qLat = tf.reshape(tf.transpose(tf.reshape(qLatHeads, [h, b, s, rkv]), [1, 2, 0, 3]), [b, s * h, rkv]);
    let latent = latentNew;
    let kPe = kPeNew;
    if (options.cache) [latent, kPe] = options.cache.write(options.startPos, latentNew, kPeNew);
    const t = latent.shape[1]!;
    const qPeFlat = tf.reshape(qPe, [b, s * h, c.qkRopeHeadDim]);
    const raw = tf.add(
      tf.matMul(qLat as tf.Tensor3D, latent as tf.Tensor3D, false, true),
      tf.matMul(qPeFlat as tf.Tensor3D, kPe as tf.Tensor3D, false, true),
    );
    let scores = tf.reshape(tf.mul(raw, mlaSoftmaxScale(c)), [b, s, h, t]);
    if (options.mask) scores = tf.add(scores, tf.reshape(options.mask, [s, 1, t]));
    const p = tf.reshape(tf.softmax(scores), [b, s * h, t]);
    const oLat = tf.matMul(p as tf.Tensor3D, latent as tf.Tensor3D);
    const oLatHeads = tf.reshape(tf.transpose(tf.reshape(oLat, [b, s, h, rkv]), [2, 0, 1, 3]), [h, b * s, rkv]);
    const oHeads = tf.matMul(oLatHeads as tf.Tensor3D, wUV as tf.Tensor3D, false, true);
    return tf.reshape(tf.transpose(tf.reshape(oHeads, [h, b, s, c.vHeadDim]), [1, 2, 0, 3]), [b, s, h * c.vHeadDim]);
  }
}

/** Masks made by causalMask without a window: exactly the fused attention's causal rule. */
const plainCausalMasks = new WeakSet<tf.Tensor>();

/**
 * The fused attention's `causal` flag equivalent to the additive `mask` for S queries over
 * T keys, or undefined when the mask is something else (then the composed path runs).
 * No mask: every key visible. A plain causal mask `[S, T]`: query s sees keys t ≤ s + T − S.
 */
function fusedCausalFlag(mask: tf.Tensor2D | undefined, s: number, t: number): boolean | undefined {
  if (!mask) return false;
  return plainCausalMasks.has(mask) && mask.shape[0] === s && mask.shape[1] === t ? true : undefined;
}

/**
 * Runs a registered fused attention on `[B, S, H, dq]` queries/keys and `[B, T, H, dv]` values.
 * The fused op needs one head dim, so the narrower side is zero-padded (exact: zero columns
 * add nothing to q·k, and padded value columns are sliced off); output `[B, S, H·dv]`.
 */
function fusedHeadAttention(
  fused: NonNullable<ReturnType<typeof fusedOp<'attention'>>>,
  options: { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor; causal: boolean; scale: number },
): tf.Tensor {
  const [b, s, h, dq] = options.q.shape as [number, number, number, number];
  const dv = options.v.shape[3]!;
  const d = Math.max(dq, dv);
  const widen = (x: tf.Tensor, from: number) =>
    (from === d ? x : tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, d - from]])) as tf.Tensor4D;
  const o = fused({ q: widen(options.q, dq), k: widen(options.k, dq), v: widen(options.v, dv), causal: options.causal, scale: options.scale });
  const out = dv === d ? o : tf.slice(o, [0, 0, 0, 0], [b, s, h, dv]);
  return tf.reshape(out, [b, s, h * dv]);
}

/** Additive causal mask `[S, startPos+S]`: query s sees keys t ≤ startPos+s. Undefined for S = 1. */
export function causalMask(startPos: number, length: number, window?: number): tf.Tensor2D | undefined {
  if (length === 1 && window === undefined) return undefined;
  const total = startPos + length;
  const data = new Float32Array(length * total);
  for (let s = 0; s < length; s++) {
    const pos = startPos + s;
    for (let t = 0; t < total; t++) {
      const visible = t <= pos && (window === undefined || pos - t < window);
      data[s * total + t] = visible ? 0 : Number.NEGATIVE_INFINITY;
    }
  }
  const mask = tf.tensor2d(data, [length, total]);
  if (window === undefined) plainCausalMasks.add(mask);
  return mask;
}
