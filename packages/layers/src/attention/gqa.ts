import { SeededRandom, tf } from '@deepline/core';
import { LayersError } from '../errors.js';
import type { LayerKvCache } from '../kvCache.js';
import { type RopeConfig, type RopeTables, applyRope, ropeFrequencies, ropeTables } from '../rope.js';
import { WeightStore } from '../weightStore.js';

/** Shape and options of a standard multi-head / grouped-query attention layer. */
export interface GqaOptions {
  /** Model width D. */
  dim: number;
  /** Query heads H. */
  nHeads: number;
  /** Key/value heads (divides nHeads; = nHeads for MHA, 1 for MQA). */
  nKvHeads: number;
  /** Per-head width. */
  headDim: number;
  /** RoPE on q and k over the whole head (interleaved pairs); omit for no positional rotation. */
  rope?: { theta: number; maxSeqLen: number };
  /**
   * Local attention window per head: query at p sees keys t with p - window < t ≤ p.
   * A number applies to every head; an array gives each head its own (undefined = global),
   * which makes a hybrid global+local layer.
   */
  window?: number | (number | undefined)[];
  /** Learned relative-position bias: one scalar per head per distance 0..maxDistance (clipped). */
  relativeBias?: { maxDistance: number };
}

/** HF-style weight names/shapes of a GQA layer under `prefix` (q/k/v/o_proj, relative_bias). */
export function gqaWeightShapes(options: GqaOptions, prefix: string): { name: string; shape: number[]; kind: 'linear' | 'param' }[] {
  const { dim, nHeads, nKvHeads, headDim } = options;
  const out: { name: string; shape: number[]; kind: 'linear' | 'param' }[] = [
    { name: `${prefix}.q_proj.weight`, shape: [nHeads * headDim, dim], kind: 'linear' },
    { name: `${prefix}.k_proj.weight`, shape: [nKvHeads * headDim, dim], kind: 'linear' },
    { name: `${prefix}.v_proj.weight`, shape: [nKvHeads * headDim, dim], kind: 'linear' },
    { name: `${prefix}.o_proj.weight`, shape: [dim, nHeads * headDim], kind: 'linear' },
  ];
  if (options.relativeBias) out.push({ name: `${prefix}.relative_bias.weight`, shape: [nHeads, options.relativeBias.maxDistance + 1], kind: 'param' });
  return out;
}

/** Per-head local windows for a layer that mixes global and local heads. */
export function hybridHeadWindows(options: { nHeads: number; localHeads: number; window: number }): (number | undefined)[] {
  return Array.from({ length: options.nHeads }, (_, h) => (h < options.localHeads ? options.window : undefined));
}

/** Per-layer windows of a hybrid stack: every `globalEvery`-th layer (1-based) global, the rest local. */
export function hybridLayerWindows(options: { nLayers: number; globalEvery: number; window: number }): (number | undefined)[] {
  return Array.from({ length: options.nLayers }, (_, l) => ((l + 1) % options.globalEvery === 0 ? undefined : options.window));
}

/** Inputs of a GQA call. */
export interface GqaForwardOptions {
  /** `[B, S, D]`. */
  x: tf.Tensor3D;
  /** Position of x[:, 0] (default 0). */
  startPos?: number;
  /** Cache of k/v `[B, T, Hkv, hd]` for incremental decoding. */
  cache?: LayerKvCache;
}

/**
 * Multi-head / grouped-query causal self-attention with optional RoPE, sliding windows
 * (per layer or per head: hybrid global+local) and a learned relative-position bias.
 */
export class GroupedQueryAttention {
  readonly options: GqaOptions;
  private readonly frequencies: Float32Array | undefined;
  private readonly ropeConfig: RopeConfig | undefined;

  constructor(
    options: GqaOptions,
    readonly store: WeightStore,
    readonly prefix: string,
  ) {
    validateGqa(options);
    this.options = options;
    if (options.rope) {
      this.ropeConfig = {
        qkRopeHeadDim: options.headDim,
        ropeTheta: options.rope.theta,
        maxSeqLen: options.rope.maxSeqLen,
        originalSeqLen: options.rope.maxSeqLen,
        ropeFactor: 1,
        betaFast: 32,
        betaSlow: 1,
        mscale: 1,
        ropeMscale: 1,
      };
      this.frequencies = ropeFrequencies(this.ropeConfig);
    }
  }

  /** A layer with its own weights: normal(0, std) projections, zero relative bias. */
  static create(options: GqaOptions & { seed?: number; std?: number; prefix?: string }): GroupedQueryAttention {
    const store = new WeightStore();
    const prefix = options.prefix ?? 'self_attn';
    const rng = new SeededRandom(options.seed ?? 0);
    for (const w of gqaWeightShapes(options, prefix)) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const value = w.kind === 'linear' ? tf.tensor(rng.normalArray(n, options.std ?? 0.02), w.shape) : tf.zeros(w.shape);
      if (w.kind === 'linear') store.addLinear(w.name, value as tf.Tensor2D);
      else store.addParam(w.name, value);
      value.dispose();
    }
    return new GroupedQueryAttention(options, store, prefix);
  }

  forward({ x, startPos = 0, cache }: GqaForwardOptions): tf.Tensor3D {
    const { nHeads: h, nKvHeads: hkv, headDim: hd } = this.options;
    const [b, s] = x.shape;
    return tf.tidy(() => {
      const tables = this.ropeConfig ? ropeTables({ config: this.ropeConfig, startPos, length: s, frequencies: this.frequencies }) : undefined;
      const project = (name: string, heads: number, roped: RopeTables | undefined) => {
        const y = tf.reshape(this.store.linear(`${this.prefix}.${name}.weight`).apply(x), [b, s, heads, hd]);
        return roped ? applyRope(y, roped) : y;
      };
      const q = project('q_proj', h, tables);
      let k = project('k_proj', hkv, tables);
      let v = project('v_proj', hkv, undefined);
      if (cache) [k, v] = cache.write(startPos, k, v);
      const t = k.shape[1]!;
      // Query head i reads kv head floor(i / (H / Hkv)); gather has a gradient on any rank.
      const groupOf = tf.tensor1d(Array.from({ length: h }, (_, i) => Math.floor(i / (h / hkv))), 'int32');
      const expand = (y: tf.Tensor) => (hkv === h ? y : tf.gather(y, groupOf, 2));
      const qh = tf.transpose(q, [0, 2, 1, 3]) as tf.Tensor4D;
      const kh = tf.transpose(expand(k), [0, 2, 1, 3]) as tf.Tensor4D;
      const vh = tf.transpose(expand(v), [0, 2, 1, 3]) as tf.Tensor4D;
      const kvStart = cache ? 0 : startPos;
      let scores = tf.add(tf.mul(tf.matMul(qh, kh, false, true), hd ** -0.5), this.mask(startPos, s, kvStart, t));
      if (this.options.relativeBias) scores = tf.add(scores, this.relativeBias(startPos, s, kvStart, t));
      const o = tf.matMul(tf.softmax(scores) as tf.Tensor4D, vh);
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, s, h * hd]);
      return this.store.linear(`${this.prefix}.o_proj.weight`).apply(merged) as tf.Tensor3D;
    });
  }

  /** Additive mask `[H, S, T]`: causal plus each head's window. Keys are at kvStart..kvStart+T-1. */
  private mask(startPos: number, s: number, kvStart: number, t: number): tf.Tensor3D {
    const h = this.options.nHeads;
    const windows = headWindows(this.options);
    const data = new Float32Array(h * s * t);
    for (let head = 0; head < h; head++) {
      const w = windows[head];
      for (let i = 0; i < s; i++) {
        const pos = startPos + i;
        for (let j = 0; j < t; j++) {
          const key = kvStart + j;
          const visible = key <= pos && (w === undefined || pos - key < w);
          data[(head * s + i) * t + j] = visible ? 0 : Number.NEGATIVE_INFINITY;
        }
      }
    }
    return tf.tensor3d(data, [h, s, t]);
  }

  /** Learned bias `[H, S, T]` indexed by clipped distance pos - key. */
  private relativeBias(startPos: number, s: number, kvStart: number, t: number): tf.Tensor {
    const max = this.options.relativeBias!.maxDistance;
    const distance = new Int32Array(s * t);
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < t; j++) distance[i * t + j] = Math.min(Math.max(startPos + i - (kvStart + j), 0), max);
    }
    const table = this.store.param(`${this.prefix}.relative_bias.weight`);
    return tf.reshape(tf.gather(table, tf.tensor1d(distance, 'int32'), 1), [this.options.nHeads, s, t]);
  }

  dispose(): void {
    this.store.dispose();
  }
}

function headWindows(options: GqaOptions): (number | undefined)[] {
  const w = options.window;
  if (Array.isArray(w)) return w;
  return Array.from({ length: options.nHeads }, () => w);
}

function validateGqa(options: GqaOptions): void {
  const fail = (field: string, message: string): never => {
    throw new LayersError(`attention option '${field}' ${message}`, { code: 'ATTENTION_OPTIONS', context: { field } });
  };
  for (const f of ['dim', 'nHeads', 'nKvHeads', 'headDim'] as const) {
    if (!Number.isInteger(options[f]) || options[f] < 1) fail(f, `must be a positive integer, got ${options[f]}`);
  }
  if (options.nHeads % options.nKvHeads !== 0) fail('nKvHeads', `(${options.nKvHeads}) must divide nHeads (${options.nHeads})`);
  if (options.rope && options.headDim % 2 !== 0) fail('headDim', 'must be even with RoPE');
  if (Array.isArray(options.window) && options.window.length !== options.nHeads) fail('window', `needs one entry per head (${options.nHeads})`);
  for (const w of headWindows(options)) if (w !== undefined && (!Number.isInteger(w) || w < 1)) fail('window', `entries must be positive integers, got ${w}`);
  if (options.relativeBias && (!Number.isInteger(options.relativeBias.maxDistance) || options.relativeBias.maxDistance < 0)) {
    fail('relativeBias.maxDistance', 'must be a non-negative integer');
  }
}
