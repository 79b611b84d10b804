import { tf } from '@deepline/core';
import {
  type DeepseekConfig,
  type DeepseekModel,
  type Linear,
  MoeLayer,
  type RopeTables,
  type WeightStore,
  applyRope,
  mlaSoftmaxScale,
  rmsNorm,
  ropeFrequencies,
  ropeTables,
  swiGlu,
} from '@deepline/layers';
import type { DecodeStep, LanguageModel, ModelSequence } from '../engine/languageModel.js';
import { ServingError } from '../errors.js';

/**
 * Read-only view of a model's weights built from its public accessors (`linears()`,
 * `namedWeights()`, `correctionBiases()`), so the layer modules (MoE, SwiGLU) can be
 * reused on it. Quantized linears come through unchanged.
 */
class WeightView {
  constructor(
    private readonly linears: Map<string, Linear>,
    private readonly params: Map<string, tf.Tensor>,
    private readonly buffers: Map<string, tf.Tensor>,
  ) {}

  linear(name: string): Linear {
    return this.get(this.linears, name);
  }
  param(name: string): tf.Tensor {
    return this.get(this.params, name);
  }
  buffer(name: string): tf.Tensor {
    return this.get(this.buffers, name);
  }
  hasLinear(name: string): boolean {
    return this.linears.has(name);
  }
  private get<T>(map: Map<string, T>, name: string): T {
    const v = map.get(name);
    if (v === undefined) throw new ServingError(`model has no weight '${name}'`, { code: 'model_weights', context: { status: 500, type: 'server_error', weight: name } });
    return v;
  }
}

/** One sequence's KV cache on the host: per layer, the MLA latent and the roped key. */
class HostKvSequence implements ModelSequence {
  length = 0;
  capacity = 0;
  latent: Float32Array[];
  rope: Float32Array[];
  private disposed = false;

  constructor(
    private readonly layers: number,
    private readonly latentDim: number,
    private readonly ropeDim: number,
    private readonly maxLength: number,
  ) {
    this.latent = [];
    this.rope = [];
    this.reserve(16);
  }

  /** Makes room for `needed` positions (doubling, capped at the context length). */
  reserve(needed: number): void {
    if (this.disposed) throw new ServingError('sequence used after dispose', { code: 'internal', context: { status: 500, type: 'server_error' } });
    if (needed <= this.capacity) return;
    const cap = Math.min(this.maxLength, Math.max(needed, this.capacity * 2));
    for (let l = 0; l < this.layers; l++) {
      const lat = new Float32Array(cap * this.latentDim);
      const rope = new Float32Array(cap * this.ropeDim);
      if (this.latent[l]) lat.set(this.latent[l]!.subarray(0, this.length * this.latentDim));
      if (this.rope[l]) rope.set(this.rope[l]!.subarray(0, this.length * this.ropeDim));
      this.latent[l] = lat;
      this.rope[l] = rope;
    }
    this.capacity = cap;
  }

  dispose(): void {
    this.disposed = true;
    this.latent = [];
    this.rope = [];
  }
}

/**
 * Serves a DeepseekModel with per-sequence host KV caches and a batched forward: one
 * step runs any number of sequences, each at its own position, through the network
 * together (per-row RoPE angles and a per-row attention mask over the padded caches).
 * Attention is the absorbed MLA form (model.py's default), so results match
 * `DeepseekModel.forward`.
 */
export class DeepseekLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly kvBytesPerToken: number;
  readonly config: DeepseekConfig;
  private readonly weights: WeightView;
  private readonly moe: Array<MoeLayer | undefined>;
  private readonly absorbed: Array<{ wUK: tf.Tensor3D; wUV: tf.Tensor3D }>;
  private readonly cos: Float32Array;
  private readonly sin: Float32Array;
  private readonly half: number;

  constructor(
    readonly model: DeepseekModel,
    options: { contextLength?: number } = {},
  ) {
    const c = model.config;
    this.config = c;
    this.vocabSize = c.vocabSize;
    this.contextLength = Math.min(options.contextLength ?? c.maxSeqLen, c.maxSeqLen);
    this.kvBytesPerToken = c.nLayers * (c.kvLoraRank + c.qkRopeHeadDim) * 4;
    this.weights = new WeightView(model.linears(), model.namedWeights(), model.correctionBiases());
    const store = this.weights as unknown as WeightStore;
    this.moe = Array.from({ length: c.nLayers }, (_, i) => (i >= c.nDenseLayers ? new MoeLayer(c, store, `model.layers.${i}.mlp`, i) : undefined));
    this.absorbed = Array.from({ length: c.nLayers }, (_, i) =>
      tf.tidy(() => {
        const w = tf.reshape(this.weights.linear(`model.layers.${i}.self_attn.kv_b_proj.weight`).weightMatrix(), [c.nHeads, c.qkNopeHeadDim + c.vHeadDim, c.kvLoraRank]);
        const [wUK, wUV] = tf.split(w, [c.qkNopeHeadDim, c.vHeadDim], 1);
        return { wUK: tf.keep(wUK as tf.Tensor3D), wUV: tf.keep(wUV as tf.Tensor3D) };
      }),
    );
    const tables = ropeTables({ config: c, startPos: 0, length: this.contextLength, frequencies: ropeFrequencies(c) });
    this.cos = tables.cos;
    this.sin = tables.sin;
    this.half = tables.half;
  }

  createSequence(): HostKvSequence {
    const c = this.config;
    return new HostKvSequence(c.nLayers, c.kvLoraRank, c.qkRopeHeadDim, this.contextLength);
  }

  async prefill(sequence: ModelSequence, tokens: readonly number[]): Promise<Float32Array> {
    return this.forwardRows([{ sequence: sequence as HostKvSequence, tokens }])[0]!;
  }

  async decode(steps: ReadonlyArray<DecodeStep>): Promise<Float32Array[]> {
    return this.forwardRows(steps.map((s) => ({ sequence: s.sequence as HostKvSequence, tokens: [s.token] })));
  }

  /** Frees the precomputed attention matrices (the DeepseekModel itself is the caller's). */
  dispose(): void {
    for (const a of this.absorbed) {
      a.wUK.dispose();
      a.wUV.dispose();
    }
  }

  /**
   * Runs B rows of S tokens each (prefill: B = 1; decode: S = 1), appending them to the
   * rows' caches, and returns the next-token logits after each row's last token.
   */
  forwardRows(rows: ReadonlyArray<{ sequence: HostKvSequence; tokens: readonly number[] }>): Float32Array[] {
    const c = this.config;
    const b = rows.length;
    const s = rows[0]!.tokens.length;
    if (rows.some((r) => r.tokens.length !== s)) throw new ServingError('forwardRows needs rows of equal length', { code: 'internal', context: { status: 500, type: 'server_error' } });
    for (const r of rows) {
      if (r.sequence.length + s > this.contextLength) {
        throw new ServingError(`sequence would exceed the ${this.contextLength}-token context`, { code: 'context_length_exceeded', context: { status: 400, type: 'invalid_request_error' } });
      }
      r.sequence.reserve(r.sequence.length + s);
    }
    const starts = rows.map((r) => r.sequence.length);
    const logits = tf.tidy(() => {
      const ids = tf.tensor2d(Int32Array.from(rows.flatMap((r) => r.tokens)), [b, s], 'int32');
      let h = tf.gather(this.weights.param('model.embed_tokens.weight'), ids) as tf.Tensor3D;
      const rope = this.rowTables(starts, s);
      for (let l = 0; l < c.nLayers; l++) {
        const p = `model.layers.${l}`;
        const x = rmsNorm({ x: h, weight: this.weights.param(`${p}.input_layernorm.weight`), eps: c.rmsNormEps }) as tf.Tensor3D;
        h = tf.add(h, this.attention(l, x, rows, starts, rope)) as tf.Tensor3D;
        const ffnIn = rmsNorm({ x: h, weight: this.weights.param(`${p}.post_attention_layernorm.weight`), eps: c.rmsNormEps }) as tf.Tensor3D;
        const moe = this.moe[l];
        const ffn = moe ? moe.forward(ffnIn).y : swiGlu({ x: ffnIn, store: this.weights as unknown as WeightStore, prefix: `${p}.mlp` });
        h = tf.add(h, ffn) as tf.Tensor3D;
      }
      // Only each row's last position feeds the head.
      const last = s === 1 ? h : tf.slice(h, [0, s - 1, 0], [b, 1, c.dim]);
      const hidden = rmsNorm({ x: last, weight: this.weights.param('model.norm.weight'), eps: c.rmsNormEps });
      return this.weights.linear('lm_head.weight').apply(hidden);
    });
    const data = logits.dataSync() as Float32Array;
    logits.dispose();
    for (const r of rows) r.sequence.length += s;
    const v = c.vocabSize;
    return rows.map((_, i) => data.slice(i * v, (i + 1) * v));
  }

  /** RoPE tables for every (row, position) pair, flattened row-major to B·S entries. */
  private rowTables(starts: number[], s: number): RopeTables {
    const half = this.half;
    const n = starts.length * s;
    const cos = new Float32Array(n * half);
    const sin = new Float32Array(n * half);
    starts.forEach((start, row) => {
      cos.set(this.cos.subarray(start * half, (start + s) * half), row * s * half);
      sin.set(this.sin.subarray(start * half, (start + s) * half), row * s * half);
    });
    return { cos, sin, length: n, half };
  }

  /** Absorbed MLA over each row's own cache; rows are padded to the longest, the rest masked. */
  private attention(layer: number, x: tf.Tensor3D, rows: ReadonlyArray<{ sequence: HostKvSequence }>, starts: number[], rope: RopeTables): tf.Tensor {
    const c = this.config;
    const [b, s] = x.shape;
    const h = c.nHeads;
    const rkv = c.kvLoraRank;
    const dr = c.qkRopeHeadDim;
    const p = `model.layers.${layer}.self_attn`;
    const w = this.weights;
    let q: tf.Tensor;
    if (c.qLoraRank === 0) q = w.linear(`${p}.q_proj.weight`).apply(x);
    else {
      const qa = w.linear(`${p}.q_a_proj.weight`).apply(x);
      q = w.linear(`${p}.q_b_proj.weight`).apply(rmsNorm({ x: qa, weight: w.param(`${p}.q_a_layernorm.weight`), eps: c.rmsNormEps }));
    }
    const [qNope, qPeRaw] = tf.split(tf.reshape(q, [b, s, h, c.qkNopeHeadDim + dr]), [c.qkNopeHeadDim, dr], 3);
    // Rows sit at different positions: fold them into the sequence axis so each gets its own angle.
    const qPe = tf.reshape(applyRope(tf.reshape(qPeRaw!, [1, b * s, h, dr]), rope), [b, s * h, dr]);
    const [latentRaw, kPeRaw] = tf.split(w.linear(`${p}.kv_a_proj_with_mqa.weight`).apply(x), [rkv, dr], 2);
    const kPe = applyRope(tf.reshape(kPeRaw!, [1, b * s, 1, dr]), rope);
    const latent = rmsNorm({ x: latentRaw!, weight: w.param(`${p}.kv_a_layernorm.weight`), eps: c.rmsNormEps });

    // Append the new entries to each row's host cache, then gather the padded batch.
    const newLatent = latent.dataSync() as Float32Array;
    const newRope = kPe.dataSync() as Float32Array;
    const t = Math.max(...starts) + s;
    const latentAll = new Float32Array(b * t * rkv);
    const ropeAll = new Float32Array(b * t * dr);
    const mask = new Float32Array(b * s * t).fill(Number.NEGATIVE_INFINITY);
    rows.forEach((row, i) => {
      const seq = row.sequence;
      const start = starts[i]!;
      seq.latent[layer]!.set(newLatent.subarray(i * s * rkv, (i + 1) * s * rkv), start * rkv);
      seq.rope[layer]!.set(newRope.subarray(i * s * dr, (i + 1) * s * dr), start * dr);
      latentAll.set(seq.latent[layer]!.subarray(0, (start + s) * rkv), i * t * rkv);
      ropeAll.set(seq.rope[layer]!.subarray(0, (start + s) * dr), i * t * dr);
      for (let j = 0; j < s; j++) mask.fill(0, (i * s + j) * t, (i * s + j) * t + start + j + 1);
    });
    const latentT = tf.tensor3d(latentAll, [b, t, rkv]);
    const ropeT = tf.tensor3d(ropeAll, [b, t, dr]);

    const { wUK, wUV } = this.absorbed[layer]!;
    const qNopeHeads = tf.reshape(tf.transpose(qNope!, [2, 0, 1, 3]), [h, b * s, c.qkNopeHeadDim]);
    const qLat = tf.reshape(tf.transpose(tf.reshape(tf.matMul(qNopeHeads as tf.Tensor3D, wUK), [h, b, s, rkv]), [1, 2, 0, 3]), [b, s * h, rkv]);
    const raw = tf.add(tf.matMul(qLat as tf.Tensor3D, latentT, false, true), tf.matMul(qPe as tf.Tensor3D, ropeT, false, true));
    const scores = tf.add(tf.reshape(tf.mul(raw, mlaSoftmaxScale(c)), [b, s, h, t]), tf.tensor4d(mask, [b, s, 1, t]));
    const probs = tf.reshape(tf.softmax(scores), [b, s * h, t]);
    const oLat = tf.matMul(probs as tf.Tensor3D, latentT);
    const oLatHeads = tf.reshape(tf.transpose(tf.reshape(oLat, [b, s, h, rkv]), [2, 0, 1, 3]), [h, b * s, rkv]);
    const oHeads = tf.matMul(oLatHeads as tf.Tensor3D, wUV, false, true);
    const o = tf.reshape(tf.transpose(tf.reshape(oHeads, [h, b, s, c.vHeadDim]), [1, 2, 0, 3]), [b, s, h * c.vHeadDim]);
    return w.linear(`${p}.o_proj.weight`).apply(o);
  }
}
