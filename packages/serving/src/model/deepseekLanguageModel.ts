import { tf } from '@deepline/core';
import {
  type DeepseekConfig,
  DenseLinear,
  type DeepseekModel,
  type Linear,
  MoeLayer,
  type WeightStore,
  mlaSoftmaxScale,
  rmsNorm,
  ropeFrequencies,
  ropeTables,
  swiGlu,
} from '@deepline/layers';
import type { DecodeStep, LanguageModel, ModelSequence, NextToken, PrefillChunk } from '../engine/languageModel.js';
import { ServingError } from '../errors.js';

/**
 * Read-only view of a model's weights built from its public accessors (`linears()`,
 * `namedWeights()`, `correctionBiases()`), so the layer modules (MoE, SwiGLU) can be
 * reused on it. Quantized linears come through unchanged.
 */
class WeightView {
  private readonly linears: Map<string, Linear>;

  constructor(
    linears: Map<string, Linear>,
    private readonly params: Map<string, tf.Tensor>,
    private readonly buffers: Map<string, tf.Tensor>,
  ) {
    // Float linears get an [in, out] copy for batches; quantized ones have their own kernels.
    this.linears = new Map([...linears].map(([name, l]) => [name, l instanceof DenseLinear ? new BatchedDenseLinear(l) : l]));
  }

  linear(name: string): Linear {
    return this.get(this.linears, name);
  }

  /** Frees the serving copies of the weights. */
  dispose(): void {
    for (const l of this.linears.values()) if (l instanceof BatchedDenseLinear) l.dispose();
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

/**
 * A float linear with a second, `[in, out]` copy of its weight for batches: the GEMM packs
 * its right operand on every call, and packing the stored `[out, in]` weight (a transpose)
 * costs about as much as the product itself at 32 rows. Single rows keep the original path
 * (a GEMV, which reads `[out, in]` directly). Costs one more copy of the float weights.
 */
class BatchedDenseLinear implements Linear {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly weightT: tf.Tensor2D;

  constructor(private readonly base: DenseLinear) {
    this.name = base.name;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.weightT = tf.tidy(() => tf.transpose(base.weight) as tf.Tensor2D);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const rows = x.size / this.inFeatures;
    const packed = rows >= PACKED_ROWS && tf.getKernel(CONSTANT_MATMUL_KERNEL, tf.getBackend()) !== undefined;
    if (!packed && rows <= BATCHED_ROWS) return this.base.apply(x);
    return tf.tidy(() => {
      const x2 = tf.reshape(x, [rows, this.inFeatures]) as tf.Tensor2D;
      const y = packed
        ? (tf.engine().runKernel(CONSTANT_MATMUL_KERNEL, { a: x2, b: this.weightT }, {}) as tf.Tensor2D)
        : tf.matMul(x2, this.weightT);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }

  weightMatrix(): tf.Tensor2D {
    return this.base.weightMatrix();
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    this.weightT.dispose();
  }
}

/** Above this many rows a linear uses its `[in, out]` copy. */
const BATCHED_ROWS = 4;

/**
 * Kernel of @deepline/kernels-native (registered with its pack on tfjs-wasm): `a·b` with `b`
 * a constant weight that the GEMM packs once and keeps, instead of on every call. Looked up
 * by name, so serving works (via `tf.matMul`) where the native kernels are not registered.
 */
const CONSTANT_MATMUL_KERNEL = 'DeeplineConstantMatMul';

/** From this many rows a linear uses the packed weight when that kernel is registered. */
const PACKED_ROWS = 2;

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
 * Grow-only host buffers reused by every step: the padded KV gather alone is megabytes
 * per layer at batch 32, and allocating it afresh each step keeps the GC busy.
 */
class Scratch {
  private readonly buffers = new Map<string, Float32Array>();

  /** A view of `size` floats of buffer `name`; its contents are whatever the last user left. */
  get(name: string, size: number): Float32Array {
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.length < size) {
      buffer = new Float32Array(Math.max(size, (buffer?.length ?? 0) * 2));
      this.buffers.set(name, buffer);
    }
    return buffer.subarray(0, size);
  }
}

/** A row of a batched forward: its cache, first position and real (unpadded) token count. */
/** Rotation factors of a batched forward, `[B·S, 1, dr]` each. */
interface RopeRows {
  cos: tf.Tensor3D;
  sin: tf.Tensor3D;
}

interface RowInfo {
  sequence: HostKvSequence;
  start: number;
  length: number;
}

/** Rows of one attention group: packed from token `offset`, each padded to `width` slots. */
interface RowGroup {
  rows: Array<{ sequence: HostKvSequence; tokens: readonly number[] }>;
  /** Each row's index in the caller's list. */
  index: number[];
  offset: number;
  width: number;
}

/** Splits rows into one-token rows and longer ones (decodes and prompt chunks), packed in that order. */
function packGroups(rows: ReadonlyArray<{ sequence: HostKvSequence; tokens: readonly number[] }>): RowGroup[] {
  const single: RowGroup = { rows: [], index: [], offset: 0, width: 1 };
  const multi: RowGroup = { rows: [], index: [], offset: 0, width: 1 };
  rows.forEach((row, i) => {
    const g = row.tokens.length === 1 ? single : multi;
    g.rows.push(row);
    g.index.push(i);
    g.width = Math.max(g.width, row.tokens.length);
  });
  multi.offset = single.rows.length;
  return [single, multi].filter((g) => g.rows.length > 0);
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
  /** `[dr, dr]` permutation swapping each (even, odd) pair. */
  private readonly pairSwap: tf.Tensor2D;
  private readonly scratch = new Scratch();

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
    const dr = c.qkRopeHeadDim;
    const swap = new Float32Array(dr * dr);
    for (let k = 0; k < dr; k++) swap[k * dr + (k ^ 1)] = 1;
    this.pairSwap = tf.tensor2d(swap, [dr, dr]);
  }

  createSequence(): HostKvSequence {
    const c = this.config;
    return new HostKvSequence(c.nLayers, c.kvLoraRank, c.qkRopeHeadDim, this.contextLength);
  }

  async prefill(chunks: ReadonlyArray<PrefillChunk>): Promise<NextToken[]> {
    return this.forwardRows(
      chunks.map((c) => ({ sequence: c.sequence as HostKvSequence, tokens: c.tokens })),
      chunks.every((c) => c.greedy),
    );
  }

  async decode(steps: ReadonlyArray<DecodeStep>): Promise<NextToken[]> {
    return this.forwardRows(
      steps.map((s) => ({ sequence: s.sequence as HostKvSequence, tokens: [s.token] })),
      steps.every((s) => s.greedy),
    );
  }

  async step(chunks: ReadonlyArray<PrefillChunk>, steps: ReadonlyArray<DecodeStep>): Promise<{ prefill: NextToken[]; decode: NextToken[] }> {
    const out = this.forwardRows(
      [
        ...chunks.map((c) => ({ sequence: c.sequence as HostKvSequence, tokens: c.tokens })),
        ...steps.map((s) => ({ sequence: s.sequence as HostKvSequence, tokens: [s.token] })),
      ],
      chunks.every((c) => c.greedy) && steps.every((s) => s.greedy),
    );
    return { prefill: out.slice(0, chunks.length), decode: out.slice(chunks.length) };
  }

  /** Frees the precomputed attention matrices (the DeepseekModel itself is the caller's). */
  dispose(): void {
    this.weights.dispose();
    this.pairSwap.dispose();
    for (const a of this.absorbed) {
      a.wUK.dispose();
      a.wUV.dispose();
    }
  }

  /**
   * Runs B rows of tokens (prefill chunks, or one token each when decoding) in one pass,
   * appending them to the rows' caches, and returns the next-token logits after each
   * row's last token (or, with `argmaxOnly`, the id of each row's largest logit).
   *
   * Rows are packed as tokens: every projection, norm and expert sees `[tokens, dim]`.
   * Only attention is per row; there, one-token rows (decodes) form one group and longer
   * rows (prompt chunks) another, each right-padded to its own longest row, so a decode
   * batch that takes in a new prompt is not padded to the prompt's length. Pad positions
   * are never written to a cache and never read back.
   */
  forwardRows(rows: ReadonlyArray<{ sequence: HostKvSequence; tokens: readonly number[] }>, argmaxOnly = false): NextToken[] {
    const c = this.config;
    const b = rows.length;
    for (const r of rows) {
      if (r.tokens.length === 0) throw new ServingError('forwardRows needs at least one token per row', { code: 'internal', context: { status: 500, type: 'server_error' } });
      if (r.sequence.length + r.tokens.length > this.contextLength) {
        throw new ServingError(`sequence would exceed the ${this.contextLength}-token context`, { code: 'context_length_exceeded', context: { status: 400, type: 'invalid_request_error' } });
      }
      r.sequence.reserve(r.sequence.length + r.tokens.length);
    }
    const groups = packGroups(rows);
    const n = groups.reduce((sum, g) => sum + g.rows.length * g.width, 0);
    const logits = tf.tidy(() => {
      const flat = new Int32Array(n);
      const lastSlot = new Int32Array(b);
      for (const g of groups) {
        g.rows.forEach((row, j) => {
          flat.set(row.tokens, g.offset + j * g.width);
          lastSlot[g.index[j]!] = g.offset + j * g.width + row.tokens.length - 1;
        });
      }
      const info = groups.map((g) => g.rows.map((r) => ({ sequence: r.sequence, start: r.sequence.length, length: r.tokens.length })));
      const ropes = groups.map((g, i) => this.rowTables(info[i]!, g.width));
      let h = tf.gather(this.weights.param('model.embed_tokens.weight'), tf.tensor1d(flat, 'int32')) as tf.Tensor2D;
      for (let l = 0; l < c.nLayers; l++) {
        const p = `model.layers.${l}`;
        const x = rmsNorm({ x: h, weight: this.weights.param(`${p}.input_layernorm.weight`), eps: c.rmsNormEps }) as tf.Tensor2D;
        const parts = groups.map((g, i) => {
          const rowsX = groups.length === 1 ? x : tf.slice(x, [g.offset, 0], [g.rows.length * g.width, c.dim]);
          const out = this.attention(l, tf.reshape(rowsX, [g.rows.length, g.width, c.dim]) as tf.Tensor3D, info[i]!, ropes[i]!);
          return tf.reshape(out, [g.rows.length * g.width, c.dim]);
        });
        h = tf.add(h, parts.length === 1 ? parts[0]! : tf.concat(parts, 0)) as tf.Tensor2D;
        const ffnIn = rmsNorm({ x: h, weight: this.weights.param(`${p}.post_attention_layernorm.weight`), eps: c.rmsNormEps }) as tf.Tensor2D;
        const moe = this.moe[l];
        const ffn = moe ? moe.forward(tf.reshape(ffnIn, [1, n, c.dim]) as tf.Tensor3D).y : swiGlu({ x: ffnIn, store: this.weights as unknown as WeightStore, prefix: `${p}.mlp` });
        h = tf.add(h, tf.reshape(ffn, [n, c.dim])) as tf.Tensor2D;
      }
      // Only each row's last real position feeds the head, in the callers' row order.
      const last = n === b && groups.length === 1 ? h : tf.gather(h, tf.tensor1d(lastSlot, 'int32'));
      const hidden = rmsNorm({ x: last, weight: this.weights.param('model.norm.weight'), eps: c.rmsNormEps });
      const scores = this.weights.linear('lm_head.weight').apply(hidden) as tf.Tensor2D;
      // Greedy rows only need the argmax: B ids come back instead of B × vocab floats.
      return argmaxOnly ? tf.argMax(scores, 1) : scores;
    });
    const data = logits.dataSync();
    logits.dispose();
    for (const r of rows) r.sequence.length += r.tokens.length;
    if (argmaxOnly) return Array.from(data);
    const v = c.vocabSize;
    // Views into the one read-back: the engine reads them before the next step.
    return rows.map((_, i) => (data as Float32Array).subarray(i * v, (i + 1) * v));
  }

  /**
   * Per-slot rotation factors for every (row, slot) pair, flattened to B·S slots (pad
   * slots reuse the row's last angle): `cos` repeated per pair and `sin` signed so that
   * `rotate(x) = x·cos + swapPairs(x)·sin` equals the interleaved RoPE of model.py.
   */
  private rowTables(rows: ReadonlyArray<RowInfo>, s: number): RopeRows {
    const half = this.half;
    const dr = 2 * half;
    const n = rows.length * s;
    // Fresh arrays, not scratch: every group's tables live until the last layer.
    const cos = new Float32Array(n * dr);
    const sin = new Float32Array(n * dr);
    rows.forEach((row, i) => {
      for (let j = 0; j < s; j++) {
        const pos = row.start + Math.min(j, row.length - 1);
        const at = (i * s + j) * dr;
        for (let k = 0; k < half; k++) {
          const cv = this.cos[pos * half + k]!;
          const sv = this.sin[pos * half + k]!;
          cos[at + 2 * k] = cv;
          cos[at + 2 * k + 1] = cv;
          sin[at + 2 * k] = -sv;
          sin[at + 2 * k + 1] = sv;
        }
      }
    });
    return { cos: tf.tensor3d(cos, [n, 1, dr]), sin: tf.tensor3d(sin, [n, 1, dr]) };
  }

  /**
   * Interleaved RoPE of `x` `[N, H, dr]` with per-slot angles. The pair swap is a matmul
   * with a fixed permutation (exact in float32); split/concat are slow on wasm.
   */
  private rotate(x: tf.Tensor, rope: RopeRows): tf.Tensor {
    const [n, h, dr] = x.shape as [number, number, number];
    const swapped = tf.reshape(tf.matMul(tf.reshape(x, [n * h, dr]) as tf.Tensor2D, this.pairSwap), [n, h, dr]);
    return tf.add(tf.mul(x, rope.cos), tf.mul(swapped, rope.sin));
  }

  /** Absorbed MLA over each row's own cache; rows are padded to the longest, the rest masked. */
  private attention(layer: number, x: tf.Tensor3D, rows: ReadonlyArray<RowInfo>, rope: RopeRows): tf.Tensor {
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
    // tf.slice, not tf.split: SplitV is far slower on the wasm backend.
    const q4 = tf.reshape(q, [b, s, h, c.qkNopeHeadDim + dr]);
    const qNope = tf.slice(q4, [0, 0, 0, 0], [b, s, h, c.qkNopeHeadDim]);
    const qPeRaw = tf.slice(q4, [0, 0, 0, c.qkNopeHeadDim], [b, s, h, dr]);
    // Rows sit at different positions: fold them into the sequence axis so each gets its own angle.
    const qPe = tf.reshape(this.rotate(tf.reshape(qPeRaw, [b * s, h, dr]), rope), [b, s * h, dr]);
    const kv = w.linear(`${p}.kv_a_proj_with_mqa.weight`).apply(x);
    const latentRaw = tf.slice(kv, [0, 0, 0], [b, s, rkv]);
    const kPeRaw = tf.slice(kv, [0, 0, rkv], [b, s, dr]);
    const kPe = this.rotate(tf.reshape(kPeRaw, [b * s, 1, dr]), rope);
    const latent = rmsNorm({ x: latentRaw, weight: w.param(`${p}.kv_a_layernorm.weight`), eps: c.rmsNormEps });

    // Append the new entries to each row's host cache, then gather the padded batch. The
    // gather and mask live in reused scratch: safe because ops run eagerly and the tensors
    // made from them are not read after this layer.
    const newLatent = latent.dataSync() as Float32Array;
    const newRope = kPe.dataSync() as Float32Array;
    const t = Math.max(...rows.map((r) => r.start + r.length));
    const latentAll = this.scratch.get('latent', b * t * rkv);
    const ropeAll = this.scratch.get('rope', b * t * dr);
    const mask = this.scratch.get('mask', b * s * t).fill(Number.NEGATIVE_INFINITY);
    rows.forEach(({ sequence: seq, start, length }, i) => {
      seq.latent[layer]!.set(newLatent.subarray(i * s * rkv, (i * s + length) * rkv), start * rkv);
      seq.rope[layer]!.set(newRope.subarray(i * s * dr, (i * s + length) * dr), start * dr);
      latentAll.set(seq.latent[layer]!.subarray(0, (start + length) * rkv), i * t * rkv);
      ropeAll.set(seq.rope[layer]!.subarray(0, (start + length) * dr), i * t * dr);
      // Pad keys (masked) are zeros rather than another step's stale values.
      latentAll.fill(0, (i * t + start + length) * rkv, (i + 1) * t * rkv);
      ropeAll.fill(0, (i * t + start + length) * dr, (i + 1) * t * dr);
      // Query j sees keys 0..start+j; pad queries (j ≥ length) see the row's real keys only.
      for (let j = 0; j < s; j++) mask.fill(0, (i * s + j) * t, (i * s + j) * t + start + Math.min(j, length - 1) + 1);
    });
    const latentT = tf.tensor3d(latentAll, [b, t, rkv]);
    const ropeT = tf.tensor3d(ropeAll, [b, t, dr]);

    const { wUK, wUV } = this.absorbed[layer]!;
    const qNopeHeads = tf.reshape(tf.transpose(qNope, [2, 0, 1, 3]), [h, b * s, c.qkNopeHeadDim]);
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
