import { LayersError, configError } from './errors.js';

/** Router score function: V2 uses softmax, V3 sigmoid. */
export type ScoreFunc = 'softmax' | 'sigmoid';

/**
 * DeepSeek-V3 architecture configuration (DeepSeek model.py `ModelArgs`, camelCase).
 * Every field is documented in the architecture spec §1; HF `config.json` names in brackets.
 */
export interface DeepseekConfig {
  /** Vocabulary size V [vocab_size]. */
  vocabSize: number;
  /** Model width D [hidden_size]. */
  dim: number;
  /** Hidden width of the dense SwiGLU MLP of the first layers [intermediate_size]. */
  interDim: number;
  /** Hidden width of each routed expert and unit width of the shared experts [moe_intermediate_size]. */
  moeInterDim: number;
  /** Number of transformer blocks [num_hidden_layers]. */
  nLayers: number;
  /** Blocks 0..nDenseLayers-1 use the dense MLP, the rest MoE [first_k_dense_replace]. */
  nDenseLayers: number;
  /** Attention heads H [num_attention_heads]. */
  nHeads: number;
  /** Routed experts per MoE layer [n_routed_experts]. */
  nRoutedExperts: number;
  /** Shared experts, implemented as one SwiGLU of width nSharedExperts·moeInterDim [n_shared_experts]. */
  nSharedExperts: number;
  /** Experts per token K [num_experts_per_tok]. */
  nActivatedExperts: number;
  /** Expert groups G [n_group]. */
  nExpertGroups: number;
  /** Groups kept per token [topk_group]. */
  nLimitedGroups: number;
  /** Router scores [scoring_func]. Sigmoid weights are renormalised, softmax weights are not. */
  scoreFunc: ScoreFunc;
  /** Multiplier on the final routing weights [routed_scaling_factor]. */
  routeScale: number;
  /**
   * Whether each gate has the selection-only correction bias [topk_method 'noaux_tc'
   * → `e_score_correction_bias`]. model.py ties it to dim 7168; we tie it to this flag.
   */
  useCorrectionBias: boolean;
  /** Query LoRA rank; 0 = plain query projection [q_lora_rank, null = 0]. */
  qLoraRank: number;
  /** Width of the compressed KV latent [kv_lora_rank]. */
  kvLoraRank: number;
  /** Per-head q/k width without RoPE [qk_nope_head_dim]. */
  qkNopeHeadDim: number;
  /** Per-head q width with RoPE; the k rope part is shared by heads [qk_rope_head_dim]. */
  qkRopeHeadDim: number;
  /** Per-head value width [v_head_dim]. */
  vHeadDim: number;
  /** Longest supported position; YaRN is on iff maxSeqLen > originalSeqLen [max_position_embeddings]. */
  maxSeqLen: number;
  /** Pre-training context of the RoPE base [rope_scaling.original_max_position_embeddings]. */
  originalSeqLen: number;
  /** RoPE base θ [rope_theta]. */
  ropeTheta: number;
  /** YaRN scale factor [rope_scaling.factor]. */
  ropeFactor: number;
  /** YaRN β_fast [rope_scaling.beta_fast]. */
  betaFast: number;
  /** YaRN β_slow [rope_scaling.beta_slow]. */
  betaSlow: number;
  /** YaRN attention-temperature coefficient of the softmax scale [rope_scaling.mscale_all_dim]. */
  mscale: number;
  /**
   * HF `rope_scaling.mscale`: cos/sin are scaled by m(factor, ropeMscale)/m(factor, mscale)
   * under YaRN. Equal to `mscale` in every released config (factor 1, as model.py assumes).
   */
  ropeMscale: number;
  /** RMSNorm epsilon [rms_norm_eps]. */
  rmsNormEps: number;
  /** Multi-Token-Prediction depth (modules after the main blocks) [num_nextn_predict_layers]. */
  nMtpModules: number;
  /**
   * Attention of every block: omitted = MLA (DeepSeek). `gqa` swaps in standard
   * multi-head / grouped-query attention (see DecoderAttentionConfig); the MLA fields are
   * then unused. Stored in config.json under the non-HF key `deepline_attention`.
   */
  attention?: DecoderAttentionConfig;
}

/**
 * Non-MLA attention for the decoder blocks: MHA/GQA with RoPE, optional sliding window,
 * hybrid global+local (per layer via globalEvery, or per head via localHeads) and a
 * learned relative-position bias.
 */
export interface DecoderAttentionConfig {
  kind: 'gqa';
  /** Key/value heads (divides nHeads). */
  nKvHeads: number;
  /** Per-head width. */
  headDim: number;
  /** Rotate q/k with RoPE (θ = ropeTheta, no YaRN); default true. */
  rope?: boolean;
  /** Window of local attention; without globalEvery/localHeads every head of every layer is local. */
  window?: number;
  /** Hybrid stack: every globalEvery-th layer (1-based) is global, the others local. */
  globalEvery?: number;
  /** Hybrid layer: the first localHeads heads of each local layer use the window, the rest are global. */
  localHeads?: number;
  /** Learned relative-position bias over distances 0..max (clipped). */
  relativeBiasMaxDistance?: number;
}

/** Names of the built-in presets. `deepseek-v3` is for parameter counting only. */
export type PresetName = 'tiny' | 'small' | 'deepseek-v3';

const TINY: DeepseekConfig = {
  vocabSize: 512,
  dim: 64,
  interDim: 128,
  moeInterDim: 32,
  nLayers: 2,
  nDenseLayers: 1,
  nHeads: 4,
  nRoutedExperts: 8,
  nSharedExperts: 1,
  nActivatedExperts: 2,
  nExpertGroups: 2,
  nLimitedGroups: 1,
  scoreFunc: 'sigmoid',
  routeScale: 1,
  useCorrectionBias: true,
  qLoraRank: 32,
  kvLoraRank: 32,
  qkNopeHeadDim: 16,
  qkRopeHeadDim: 8,
  vHeadDim: 16,
  maxSeqLen: 256,
  originalSeqLen: 256,
  ropeTheta: 10000,
  ropeFactor: 1,
  betaFast: 32,
  betaSlow: 1,
  mscale: 1,
  ropeMscale: 1,
  rmsNormEps: 1e-6,
  nMtpModules: 1,
};

const SMALL: DeepseekConfig = {
  ...TINY,
  vocabSize: 8192,
  dim: 256,
  interDim: 768,
  moeInterDim: 128,
  nLayers: 6,
  nDenseLayers: 1,
  nHeads: 8,
  nRoutedExperts: 16,
  nActivatedExperts: 4,
  nExpertGroups: 4,
  nLimitedGroups: 2,
  routeScale: 2.5,
  qLoraRank: 128,
  kvLoraRank: 128,
  qkNopeHeadDim: 32,
  qkRopeHeadDim: 16,
  vHeadDim: 32,
  maxSeqLen: 1024,
  originalSeqLen: 1024,
};

// Published DeepSeek-V3 shapes (HF config.json of deepseek-ai/DeepSeek-V3).
const DEEPSEEK_V3: DeepseekConfig = {
  vocabSize: 129280,
  dim: 7168,
  interDim: 18432,
  moeInterDim: 2048,
  nLayers: 61,
  nDenseLayers: 3,
  nHeads: 128,
  nRoutedExperts: 256,
  nSharedExperts: 1,
  nActivatedExperts: 8,
  nExpertGroups: 8,
  nLimitedGroups: 4,
  scoreFunc: 'sigmoid',
  routeScale: 2.5,
  useCorrectionBias: true,
  qLoraRank: 1536,
  kvLoraRank: 512,
  qkNopeHeadDim: 128,
  qkRopeHeadDim: 64,
  vHeadDim: 128,
  maxSeqLen: 163840,
  originalSeqLen: 4096,
  ropeTheta: 10000,
  ropeFactor: 40,
  betaFast: 32,
  betaSlow: 1,
  mscale: 1,
  ropeMscale: 1,
  rmsNormEps: 1e-6,
  nMtpModules: 1,
};

const PRESETS: Record<PresetName, DeepseekConfig> = { tiny: TINY, small: SMALL, 'deepseek-v3': DEEPSEEK_V3 };

/** Names of the presets, in size order. */
export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'small', 'deepseek-v3'];

/** A fresh copy of a preset, with optional overrides (validated). */
export function presetConfig(name: PresetName, overrides: Partial<DeepseekConfig> = {}): DeepseekConfig {
  const base = PRESETS[name];
  if (!base) {
    throw new LayersError(`unknown preset '${String(name)}'; expected one of ${PRESET_NAMES.join(', ')}`, {
      code: 'PRESET_UNKNOWN',
      context: { field: 'preset' },
    });
  }
  return validateDeepseekConfig({ ...base, ...overrides });
}

/** True when YaRN frequency correction and the mscale² softmax factor are on (spec §6, quirk 2). */
export function yarnEnabled(config: DeepseekConfig): boolean {
  return config.maxSeqLen > config.originalSeqLen;
}

const INTEGER_FIELDS = [
  'vocabSize',
  'dim',
  'interDim',
  'moeInterDim',
  'nLayers',
  'nHeads',
  'nRoutedExperts',
  'nActivatedExperts',
  'nExpertGroups',
  'nLimitedGroups',
  'kvLoraRank',
  'qkNopeHeadDim',
  'qkRopeHeadDim',
  'vHeadDim',
  'maxSeqLen',
  'originalSeqLen',
] as const;
const NON_NEGATIVE_INTEGER_FIELDS = ['nDenseLayers', 'nSharedExperts', 'qLoraRank', 'nMtpModules'] as const;
const POSITIVE_NUMBER_FIELDS = ['routeScale', 'ropeTheta', 'ropeFactor', 'betaFast', 'betaSlow', 'rmsNormEps'] as const;

/**
 * Checks every field and the cross-field rules (group divisibility, top-k fits the kept
 * groups, even rope width…). Returns the same object; throws LayersError naming the field.
 */
export function validateDeepseekConfig(config: DeepseekConfig, source?: string): DeepseekConfig {
  const c = config as unknown as Record<string, unknown>;
  for (const f of INTEGER_FIELDS) {
    if (!Number.isInteger(c[f]) || (c[f] as number) < 1) configError(f, `must be a positive integer, got ${JSON.stringify(c[f])}`, source);
  }
  for (const f of NON_NEGATIVE_INTEGER_FIELDS) {
    if (!Number.isInteger(c[f]) || (c[f] as number) < 0) configError(f, `must be a non-negative integer, got ${JSON.stringify(c[f])}`, source);
  }
  for (const f of POSITIVE_NUMBER_FIELDS) {
    if (typeof c[f] !== 'number' || !Number.isFinite(c[f]) || (c[f] as number) <= 0) {
      configError(f, `must be a positive number, got ${JSON.stringify(c[f])}`, source);
    }
  }
  for (const f of ['mscale', 'ropeMscale'] as const) {
    if (typeof c[f] !== 'number' || !Number.isFinite(c[f])) configError(f, `must be a number, got ${JSON.stringify(c[f])}`, source);
  }
  if (config.scoreFunc !== 'softmax' && config.scoreFunc !== 'sigmoid') {
    configError('scoreFunc', `must be 'softmax' or 'sigmoid', got ${JSON.stringify(config.scoreFunc)}`, source);
  }
  if (typeof config.useCorrectionBias !== 'boolean') configError('useCorrectionBias', 'must be a boolean', source);
  if (config.nDenseLayers > config.nLayers) configError('nDenseLayers', `(${config.nDenseLayers}) exceeds nLayers (${config.nLayers})`, source);
  if (config.qkRopeHeadDim % 2 !== 0) configError('qkRopeHeadDim', `must be even (rotated in pairs), got ${config.qkRopeHeadDim}`, source);
  if (config.nRoutedExperts % config.nExpertGroups !== 0) {
    configError('nExpertGroups', `(${config.nExpertGroups}) must divide nRoutedExperts (${config.nRoutedExperts})`, source);
  }
  if (config.nLimitedGroups > config.nExpertGroups) {
    configError('nLimitedGroups', `(${config.nLimitedGroups}) exceeds nExpertGroups (${config.nExpertGroups})`, source);
  }
  const groupSize = config.nRoutedExperts / config.nExpertGroups;
  if (config.nActivatedExperts > config.nLimitedGroups * groupSize) {
    configError(
      'nActivatedExperts',
      `(${config.nActivatedExperts}) exceeds the experts of the kept groups (${config.nLimitedGroups}×${groupSize})`,
      source,
    );
  }
  if (config.useCorrectionBias && config.nExpertGroups > 1 && groupSize < 2) {
    configError('nExpertGroups', 'with the correction bias, groups need at least 2 experts (top-2-sum group score)', source);
  }
  if (config.attention !== undefined) validateAttention(config, source);
  return config;
}

function validateAttention(config: DeepseekConfig, source?: string): void {
  const a = config.attention!;
  if (a.kind !== 'gqa') configError('attention.kind', `must be 'gqa', got ${JSON.stringify(a.kind)}`, source);
  for (const f of ['nKvHeads', 'headDim'] as const) {
    if (!Number.isInteger(a[f]) || a[f] < 1) configError(`attention.${f}`, `must be a positive integer, got ${JSON.stringify(a[f])}`, source);
  }
  if (config.nHeads % a.nKvHeads !== 0) configError('attention.nKvHeads', `(${a.nKvHeads}) must divide nHeads (${config.nHeads})`, source);
  if ((a.rope ?? true) && a.headDim % 2 !== 0) configError('attention.headDim', 'must be even with RoPE', source);
  for (const f of ['window', 'globalEvery', 'localHeads'] as const) {
    const v = a[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) configError(`attention.${f}`, `must be a positive integer, got ${JSON.stringify(v)}`, source);
  }
  if ((a.globalEvery !== undefined || a.localHeads !== undefined) && a.window === undefined) {
    configError('attention.window', 'is required with globalEvery or localHeads', source);
  }
  if (a.localHeads !== undefined && a.localHeads > config.nHeads) configError('attention.localHeads', `exceeds nHeads (${config.nHeads})`, source);
  const d = a.relativeBiasMaxDistance;
  if (d !== undefined && (!Number.isInteger(d) || d < 0)) configError('attention.relativeBiasMaxDistance', 'must be a non-negative integer', source);
}

/** Total and per-token-activated parameter counts (embedding and head included). */
export interface ParameterCounts {
  /** Every parameter of the main model (embedding, blocks, final norm, head; gate biases excluded). */
  total: number;
  /** Parameters one token touches: attention, dense MLPs, K routed + shared experts, gates, embedding row set and head. */
  activatedPerToken: number;
  /** Extra parameters of the MTP modules (embedding and head are shared, not counted). */
  mtp: number;
}

/** Counts parameters analytically from the config (no weights are allocated). */
export function countParameters(config: DeepseekConfig): ParameterCounts {
  const c = config;
  const dq = c.qkNopeHeadDim + c.qkRopeHeadDim;
  const query = c.qLoraRank === 0 ? c.nHeads * dq * c.dim : c.qLoraRank * c.dim + c.qLoraRank + c.nHeads * dq * c.qLoraRank;
  const attention = c.attention
    ? gqaParameters(c)
    : query +
    (c.kvLoraRank + c.qkRopeHeadDim) * c.dim +
    c.kvLoraRank +
    c.nHeads * (c.qkNopeHeadDim + c.vHeadDim) * c.kvLoraRank +
    c.dim * c.nHeads * c.vHeadDim;
  const norms = 2 * c.dim;
  const dense = 3 * c.dim * c.interDim;
  const expert = 3 * c.dim * c.moeInterDim;
  const shared = c.nSharedExperts * expert;
  const gate = c.nRoutedExperts * c.dim;
  const moeTotal = c.nRoutedExperts * expert + shared + gate;
  const moeActive = c.nActivatedExperts * expert + shared + gate;
  const nMoe = c.nLayers - c.nDenseLayers;
  const embedAndHead = 2 * c.vocabSize * c.dim + c.dim;
  const total = c.nLayers * (attention + norms) + c.nDenseLayers * dense + nMoe * moeTotal + embedAndHead;
  const activatedPerToken = c.nLayers * (attention + norms) + c.nDenseLayers * dense + nMoe * moeActive + embedAndHead;
  const mtpModule = 2 * c.dim + 2 * c.dim * c.dim + attention + norms + moeTotal + c.dim;
  return { total, activatedPerToken, mtp: c.nMtpModules * mtpModule };
}

function gqaParameters(c: DeepseekConfig): number {
  const a = c.attention!;
  const q = c.nHeads * a.headDim;
  const kv = a.nKvHeads * a.headDim;
  const bias = a.relativeBiasMaxDistance === undefined ? 0 : c.nHeads * (a.relativeBiasMaxDistance + 1);
  return 2 * q * c.dim + 2 * kv * c.dim + bias;
}
