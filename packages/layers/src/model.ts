import { SeededRandom, tf } from '@deepline/core';
import { DecoderBlock } from './block.js';
import { type DeepseekConfig, type ParameterCounts, countParameters, validateDeepseekConfig } from './config.js';
import { LayersError } from './errors.js';
import { type AttentionImpl, KvCache } from './kvCache.js';
import type { Linear } from './linear.js';
import { causalMask } from './mla.js';
import type { RoutingInfo } from './moe.js';
import { type HostTensor, type SaveModelOptions, readModelDir, writeModelDir } from './modelIo.js';
import { rmsNorm } from './rmsNorm.js';
import { ropeFrequencies, ropeTables } from './rope.js';
import { type WeightSpec, modelWeightSpecs, mtpPrefix } from './weightSpecs.js';
import { WeightStore } from './weightStore.js';

/** Options of DeepseekModel.create. */
export interface CreateModelOptions {
  /** Seed of the deterministic initialisation (default 0). */
  seed?: number;
  /** Std of the normal init of embedding and projections (default 0.006, the V3 report's value). */
  initStd?: number;
  /** Default attention computation of forward (default 'absorb'). */
  attention?: AttentionImpl;
}

/** Options of DeepseekModel.load. */
export interface LoadModelOptions {
  /** Default attention computation of forward (default 'absorb'). */
  attention?: AttentionImpl;
}

/** Options of forward. */
export interface ForwardOptions {
  /** Position of tokens[:, 0] (default 0). With a cache, entries at ≥ startPos are overwritten. */
  startPos?: number;
  /** KV cache for incremental decoding (see createCache); updated in place. */
  cache?: KvCache;
  /** Training pass: also computes MTP logits when the config has MTP modules (unless mtp: false). */
  training?: boolean;
  /** Return per-MoE-layer routing (scores, indices, weights, counts). */
  collectRouting?: boolean;
  /** Return the final normalised hidden states `[B, S, D]` (the head's input). */
  returnHidden?: boolean;
  /** Compute MTP logits (default: training && config.nMtpModules > 0). Not with a cache. */
  mtp?: boolean;
  /** Attention computation (default: the cache's, else the model's default). */
  attention?: AttentionImpl;
  /**
   * Activation recomputation for training: each block's attention and FFN sublayers (dense
   * MLP, routed and shared experts) keep only their inputs on the gradient tape and run again
   * in backprop. Same values and gradients, less memory held between forward and backward.
   * MoE routing stays on the normal tape. Not with a cache.
   */
  recompute?: boolean;
}

/** Result of forward. The caller owns (and disposes) every tensor in it. */
export interface ForwardOutput {
  /** `[B, S, V]` logits for every position of the chunk. */
  logits: tf.Tensor3D;
  /** Per MoE layer (main blocks then MTP blocks) when collectRouting is set. */
  routing?: RoutingInfo[];
  /** `[B, S, D]` when returnHidden is set. */
  hidden?: tf.Tensor3D;
  /**
   * One entry per MTP module k = 1..D when MTP ran: `[B, S-k, V]`, row i predicting token
   * i+k+1 (the main logits row i predicts token i+1). Depths with S ≤ k are omitted.
   */
  mtpLogits?: tf.Tensor3D[];
}

/** Options of createCache. */
export interface CreateCacheOptions {
  batchSize: number;
  /** Longest sequence the cache will hold (default and maximum: config.maxSeqLen). */
  maxSeqLen?: number;
  /** Default: the model's default attention computation. */
  attention?: AttentionImpl;
}

/**
 * The DeepSeek-V3 decoder (spec §2) with MTP modules (§9), holding its weights under HF
 * names. Forward is differentiable (use inside tf.variableGrads / optimizer.minimize).
 */
export class DeepseekModel {
  readonly config: DeepseekConfig;
  /** Default attention computation. */
  attention: AttentionImpl;
  private readonly store: WeightStore;
  private readonly blocks: DecoderBlock[];
  private readonly mtpBlocks: DecoderBlock[];
  private readonly frequencies: Float32Array;

  private constructor(config: DeepseekConfig, store: WeightStore, attention: AttentionImpl) {
    this.config = config;
    this.store = store;
    this.attention = attention;
    this.blocks = Array.from(
      { length: config.nLayers },
      (_, i) => new DecoderBlock(config, store, `model.layers.${i}`, i, i >= config.nDenseLayers),
    );
    this.mtpBlocks = Array.from(
      { length: config.nMtpModules },
      (_, k) => new DecoderBlock(config, store, mtpPrefix(config, k), config.nLayers + k, true),
    );
    this.frequencies = ropeFrequencies(config);
  }

  /** A freshly initialised model: normal(0, initStd) projections/embedding, unit norms, zero gate biases. */
  static create(config: DeepseekConfig, options: CreateModelOptions = {}): DeepseekModel {
    const cfg = validateDeepseekConfig({ ...config });
    const rng = new SeededRandom(options.seed ?? 0);
    const std = options.initStd ?? 0.006;
    const tensors = new Map<string, HostTensor>();
    for (const spec of modelWeightSpecs(cfg)) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const data = spec.init === 'normal' ? rng.normalArray(count, std) : new Float32Array(count).fill(spec.init === 'ones' ? 1 : 0);
      tensors.set(spec.name, { shape: spec.shape, data });
    }
    return DeepseekModel.fromTensors(cfg, tensors, { attention: options.attention });
  }

  /**
   * Builds a model from host tensors keyed by HF name (every tensor of modelWeightSpecs,
   * exact shapes). Errors name unknown, missing and mis-shaped tensors.
   */
  static fromTensors(config: DeepseekConfig, tensors: Map<string, HostTensor>, options: LoadModelOptions = {}): DeepseekModel {
    const cfg = validateDeepseekConfig({ ...config });
    const specs = modelWeightSpecs(cfg);
    checkTensors(specs, tensors);
    const store = new WeightStore();
    try {
      for (const spec of specs) {
        const t = tensors.get(spec.name)!;
        const value = tf.tensor(t.data, spec.shape, 'float32');
        if (spec.kind === 'linear') store.addLinear(spec.name, value as tf.Tensor2D);
        else if (spec.kind === 'param') store.addParam(spec.name, value);
        else store.addBuffer(spec.name, value);
        value.dispose();
      }
    } catch (error) {
      store.dispose();
      throw error;
    }
    return new DeepseekModel(cfg, store, options.attention ?? 'absorb');
  }

  /**
   * Loads a Hugging Face model directory: config.json plus model.safetensors or shards
   * (model.safetensors.index.json); F32/F16/BF16 become float32; model.py names accepted.
   */
  static async load(dir: string, options: LoadModelOptions = {}): Promise<DeepseekModel> {
    const { config, tensors } = await readModelDir(dir);
    return DeepseekModel.fromTensors(config, tensors, options);
  }

  /** Writes config.json and model.safetensors (or shards) in HF naming. Returns the files written. */
  async save(dir: string, options: SaveModelOptions = {}): Promise<string[]> {
    return writeModelDir(dir, this.config, this.hostTensors(), options);
  }

  /** Every tensor by HF name as host float32 (linears via weightMatrix, so quantized ones are dequantized). */
  hostTensors(): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const name of this.store.names()) {
      let data = new Float32Array(0);
      // tidy frees a dequantized copy from weightMatrix(); nothing is returned from it
      // because tidy walks (slowly) any typed array it returns.
      tf.tidy(() => {
        data = Float32Array.from(this.tensorByName(name).dataSync());
      });
      out.set(name, { shape: this.specShape(name), data });
    }
    return out;
  }

  /** Trainable weights by HF name (embedding, norms, every DenseLinear's weight). Gate biases excluded. */
  namedWeights(): Map<string, tf.Variable> {
    return this.store.trainable();
  }

  /** Gate correction biases (`…mlp.gate.e_score_correction_bias`), non-trainable, for the bias update rule. */
  correctionBiases(): Map<string, tf.Variable> {
    return this.store.bufferEntries();
  }

  /** Every Linear by HF weight name (projections, experts, router gates, lm_head, eh_proj). */
  linears(): Map<string, Linear> {
    return this.store.linearEntries();
  }

  /** Swaps one projection's implementation (e.g. a packed int4 Linear). Returns the old one (disposed unless disposeOld is false). */
  replaceLinear(name: string, impl: Linear, options: { disposeOld?: boolean } = {}): Linear {
    return this.store.replaceLinear(name, impl, options);
  }

  /** Analytic parameter counts of this config. */
  parameterCounts(): ParameterCounts {
    return countParameters(this.config);
  }

  /** A KV cache for `batchSize` sequences; pass it to forward with startPos. Dispose it when done. */
  createCache(options: CreateCacheOptions): KvCache {
    const maxSeqLen = options.maxSeqLen ?? this.config.maxSeqLen;
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new LayersError(`createCache: batchSize must be a positive integer, got ${options.batchSize}`, {
        code: 'CACHE_OPTIONS',
        context: { field: 'batchSize' },
      });
    }
    if (!Number.isInteger(maxSeqLen) || maxSeqLen < 1 || maxSeqLen > this.config.maxSeqLen) {
      throw new LayersError(`createCache: maxSeqLen must be an integer in 1..${this.config.maxSeqLen}, got ${maxSeqLen}`, {
        code: 'CACHE_OPTIONS',
        context: { field: 'maxSeqLen' },
      });
    }
    return new KvCache({ batchSize: options.batchSize, maxSeqLen, attention: options.attention ?? this.attention, nLayers: this.config.nLayers });
  }

  /**
   * Logits for every position of `tokens` `[B, S]` int32 at positions startPos.. . Without a
   * cache the chunk attends only to itself (so startPos only shifts RoPE positions).
   */
  forward(tokens: tf.Tensor2D, options: ForwardOptions = {}): ForwardOutput {
    const [b, s] = this.checkTokens(tokens);
    const startPos = options.startPos ?? 0;
    const cache = options.cache;
    const impl = options.attention ?? cache?.attention ?? this.attention;
    this.checkPositions(b, s, startPos, impl, cache);
    const wantMtp = (options.mtp ?? options.training ?? false) && this.config.nMtpModules > 0;
    if (wantMtp && cache) {
      throw new LayersError('forward: MTP logits are computed on full sequences, not with a KV cache', { code: 'FORWARD_OPTIONS', context: { field: 'mtp' } });
    }
    if (options.recompute && cache) {
      throw new LayersError('forward: recompute is for training passes, not with a KV cache', { code: 'FORWARD_OPTIONS', context: { field: 'recompute' } });
    }
    const recompute = options.recompute ?? false;
    const counts: Int32Array[] = [];
    const layers: number[] = [];
    const out = tf.tidy(() => {
      const rope = ropeTables({ config: this.config, startPos, length: s, frequencies: this.frequencies });
      const mask = cache ? causalMask(startPos, s) : causalMask(0, s);
      let h = tf.gather(this.store.param('model.embed_tokens.weight'), tokens) as tf.Tensor3D;
      const routing: { scores: tf.Tensor2D; indices: tf.Tensor2D; weights: tf.Tensor2D }[] = [];
      const collect = (r: RoutingInfo | undefined) => {
        if (!r || !options.collectRouting) return;
        routing.push({ scores: r.scores, indices: r.indices, weights: r.weights });
        counts.push(r.expertCounts);
        layers.push(r.layer);
      };
      for (let i = 0; i < this.blocks.length; i++) {
        const result = this.blocks[i]!.forward({ h, rope, mask, startPos, cache: cache?.layers[i], impl, recompute });
        h = result.h;
        collect(result.routing);
      }
      const hidden = rmsNorm({ x: h, weight: this.store.param('model.norm.weight'), eps: this.config.rmsNormEps }) as tf.Tensor3D;
      const logits = this.store.linear('lm_head.weight').apply(hidden) as tf.Tensor3D;
      const mtpLogits = wantMtp ? this.mtpForward(tokens, hidden, { impl, recompute }, collect) : undefined;
      return { logits, hidden: options.returnHidden ? hidden : undefined, routing, mtpLogits };
    });
    const result: ForwardOutput = { logits: out.logits };
    if (out.hidden) result.hidden = out.hidden;
    if (out.mtpLogits) result.mtpLogits = out.mtpLogits;
    if (options.collectRouting) {
      result.routing = out.routing.map((r, i) => ({ layer: layers[i]!, ...r, expertCounts: counts[i]! }));
    }
    return result;
  }

  /** Frees every weight. The model is unusable afterwards. */
  dispose(): void {
    this.store.dispose();
  }

  /**
   * MTP (spec §9): module k combines RMSNorm(Emb(t_{i+k})) and RMSNorm(h^{k-1}_i)
   * (embedding first, like the released weights), runs its block causally over the
   * shortened sequence and predicts t_{i+k+1} with the shared head. h^0 is the main
   * model's final normalised hidden state (what vLLM feeds its MTP drafter).
   */
  private mtpForward(
    tokens: tf.Tensor2D,
    mainHidden: tf.Tensor3D,
    { impl, recompute }: { impl: AttentionImpl; recompute: boolean },
    collect: (r: RoutingInfo | undefined) => void,
  ): tf.Tensor3D[] {
    const [b, s] = tokens.shape;
    const d = this.config.dim;
    const eps = this.config.rmsNormEps;
    const out: tf.Tensor3D[] = [];
    let previous = mainHidden;
    for (let k = 1; k <= this.config.nMtpModules; k++) {
      const len = s - k;
      if (len <= 0) break;
      const p = mtpPrefix(this.config, k - 1);
      const shifted = tf.slice(tokens, [0, k], [b, len]);
      const emb = tf.gather(this.store.param('model.embed_tokens.weight'), shifted);
      const hPrev = tf.slice(previous, [0, 0, 0], [b, len, d]);
      const joined = tf.concat(
        [rmsNorm({ x: emb, weight: this.store.param(`${p}.enorm.weight`), eps }), rmsNorm({ x: hPrev, weight: this.store.param(`${p}.hnorm.weight`), eps })],
        -1,
      );
      const x = this.store.linear(`${p}.eh_proj.weight`).apply(joined) as tf.Tensor3D;
      const rope = ropeTables({ config: this.config, startPos: 0, length: len, frequencies: this.frequencies });
      const result = this.mtpBlocks[k - 1]!.forward({ h: x, rope, mask: causalMask(0, len), startPos: 0, impl, recompute });
      collect(result.routing);
      const normed = rmsNorm({ x: result.h, weight: this.store.param(`${p}.shared_head.norm.weight`), eps });
      out.push(this.store.linear('lm_head.weight').apply(normed) as tf.Tensor3D);
      previous = result.h;
    }
    return out;
  }

  private checkTokens(tokens: tf.Tensor2D): [number, number] {
    if (tokens.rank !== 2 || tokens.dtype !== 'int32') {
      throw new LayersError(`forward: tokens must be an int32 [B, S] tensor, got ${tokens.dtype} [${tokens.shape.join(', ')}]`, {
        code: 'FORWARD_TOKENS',
        context: { field: 'tokens', actualShape: [...tokens.shape] },
      });
    }
    const [b, s] = tokens.shape;
    if (b === 0 || s === 0) {
      throw new LayersError(`forward: tokens must be non-empty, got [${b}, ${s}]`, { code: 'FORWARD_TOKENS', context: { field: 'tokens' } });
    }
    const ids = tokens.dataSync();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= this.config.vocabSize) {
        throw new LayersError(`forward: token ${id} at flat index ${i} is outside the vocabulary 0..${this.config.vocabSize - 1}`, {
          code: 'FORWARD_TOKENS',
          context: { field: 'tokens', index: i, token: id },
        });
      }
    }
    return [b, s];
  }

  private checkPositions(b: number, s: number, startPos: number, impl: AttentionImpl, cache?: KvCache): void {
    const fail = (message: string, field: string): never => {
      throw new LayersError(`forward: ${message}`, { code: 'FORWARD_OPTIONS', context: { field } });
    };
    if (!Number.isInteger(startPos) || startPos < 0) fail(`startPos must be a non-negative integer, got ${startPos}`, 'startPos');
    const limit = cache?.maxSeqLen ?? this.config.maxSeqLen;
    if (startPos + s > limit) fail(`positions ${startPos}..${startPos + s - 1} exceed maxSeqLen ${limit}`, 'startPos');
    if (impl !== 'absorb' && impl !== 'naive') fail(`attention must be 'absorb' or 'naive', got ${JSON.stringify(impl)}`, 'attention');
    if (!cache) return;
    if (cache.batchSize !== b) fail(`cache was created for batch ${cache.batchSize}, tokens have batch ${b}`, 'cache');
    if (cache.attention !== impl) fail(`cache holds '${cache.attention}' entries, cannot run '${impl}' attention`, 'attention');
    if (startPos > cache.length) fail(`startPos ${startPos} is past the ${cache.length} cached positions`, 'startPos');
  }

  private tensorByName(name: string): tf.Tensor {
    if (this.store.hasLinear(name)) return this.store.linear(name).weightMatrix();
    const buffers = this.store.bufferEntries();
    return buffers.get(name) ?? this.store.param(name);
  }

  private specShape(name: string): number[] {
    return this.specIndex().get(name)!.shape;
  }

  private specCache: Map<string, WeightSpec> | undefined;

  private specIndex(): Map<string, WeightSpec> {
    this.specCache ??= new Map(modelWeightSpecs(this.config).map((s) => [s.name, s]));
    return this.specCache;
  }
}

function checkTensors(specs: WeightSpec[], tensors: Map<string, HostTensor>): void {
  const known = new Map(specs.map((s) => [s.name, s]));
  for (const [name, t] of tensors) {
    const spec = known.get(name);
    if (!spec) {
      throw new LayersError(`unknown tensor '${name}' (shape [${t.shape.join(', ')}]) for this config`, {
        code: 'WEIGHT_UNKNOWN',
        context: { tensor: name, actualShape: t.shape },
      });
    }
    if (spec.shape.length !== t.shape.length || spec.shape.some((d, i) => d !== t.shape[i])) {
      throw new LayersError(`tensor '${name}' has shape [${t.shape.join(', ')}], expected [${spec.shape.join(', ')}]`, {
        code: 'WEIGHT_SHAPE',
        context: { tensor: name, expectedShape: spec.shape, actualShape: t.shape },
      });
    }
  }
  const missing = specs.filter((s) => !tensors.has(s.name)).map((s) => s.name);
  if (missing.length > 0) {
    throw new LayersError(
      `missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      { code: 'WEIGHT_MISSING', context: { tensor: missing[0], missing } },
    );
  }
}
