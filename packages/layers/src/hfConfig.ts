import { type DeepseekConfig, validateDeepseekConfig, yarnEnabled } from './config.js';
import { LayersError, configError } from './errors.js';

/** Options of fromHfConfig. */
export interface FromHfConfigOptions {
  /** File name used in error messages (e.g. the config.json path). */
  source?: string;
}

type Json = Record<string, unknown>;

function num(json: Json, key: string, source: string | undefined, fallback?: number): number {
  const v = json[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    configError(key, 'is missing', source);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) configError(key, `must be a number, got ${JSON.stringify(v)}`, source);
  return v as number;
}

/**
 * Parses a Hugging Face DeepSeek-V3 (or V2) `config.json` object into a DeepseekConfig.
 * Unsupported structural options (tied embeddings, non-SiLU activation, attention bias,
 * moe_layer_freq ≠ 1, non-YaRN rope scaling) are errors naming the field.
 */
export function fromHfConfig(json: unknown, options: FromHfConfigOptions = {}): DeepseekConfig {
  const source = options.source;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new LayersError(`${source ?? 'config'}: must be a JSON object`, { code: 'CONFIG_INVALID', context: { file: source } });
  }
  const j = json as Json;
  const modelType = j.model_type;
  if (modelType !== undefined && modelType !== 'deepseek_v3' && modelType !== 'deepseek_v2') {
    configError('model_type', `must be 'deepseek_v3' or 'deepseek_v2', got ${JSON.stringify(modelType)}`, source);
  }
  if (j.tie_word_embeddings === true) configError('tie_word_embeddings', 'must be false (DeepSeek has a separate head)', source);
  if (j.hidden_act !== undefined && j.hidden_act !== 'silu') configError('hidden_act', `must be 'silu', got ${JSON.stringify(j.hidden_act)}`, source);
  if (j.attention_bias === true) configError('attention_bias', 'must be false (no biases in DeepSeek linears)', source);
  if (j.moe_layer_freq !== undefined && j.moe_layer_freq !== 1) configError('moe_layer_freq', `only 1 is supported, got ${JSON.stringify(j.moe_layer_freq)}`, source);
  const heads = num(j, 'num_attention_heads', source);
  const attention = parseDeeplineAttention(j.deepline_attention, source);
  const kvHeads = attention ? attention.nKvHeads : heads;
  if (j.num_key_value_heads !== undefined && j.num_key_value_heads !== null && j.num_key_value_heads !== kvHeads) {
    configError('num_key_value_heads', `must be ${kvHeads} (${attention ? 'deepline_attention.nKvHeads' : 'num_attention_heads, for MLA'})`, source);
  }
  const scoring = j.scoring_func ?? 'softmax';
  if (scoring !== 'softmax' && scoring !== 'sigmoid') configError('scoring_func', `must be 'softmax' or 'sigmoid', got ${JSON.stringify(scoring)}`, source);
  const topkMethod = j.topk_method;
  const useCorrectionBias = topkMethod === undefined ? scoring === 'sigmoid' : topkMethod === 'noaux_tc';
  const maxPositions = num(j, 'max_position_embeddings', source);
  const rope = parseRopeScaling(j.rope_scaling, maxPositions, source);
  const config: DeepseekConfig = {
    vocabSize: num(j, 'vocab_size', source),
    dim: num(j, 'hidden_size', source),
    interDim: num(j, 'intermediate_size', source),
    moeInterDim: num(j, 'moe_intermediate_size', source),
    nLayers: num(j, 'num_hidden_layers', source),
    nDenseLayers: num(j, 'first_k_dense_replace', source, 0),
    nHeads: heads,
    nRoutedExperts: num(j, 'n_routed_experts', source),
    nSharedExperts: num(j, 'n_shared_experts', source, 0),
    nActivatedExperts: num(j, 'num_experts_per_tok', source),
    nExpertGroups: num(j, 'n_group', source, 1),
    nLimitedGroups: num(j, 'topk_group', source, 1),
    scoreFunc: scoring as DeepseekConfig['scoreFunc'],
    routeScale: num(j, 'routed_scaling_factor', source, 1),
    useCorrectionBias,
    qLoraRank: num(j, 'q_lora_rank', source, 0),
    kvLoraRank: num(j, 'kv_lora_rank', source),
    qkNopeHeadDim: num(j, 'qk_nope_head_dim', source),
    qkRopeHeadDim: num(j, 'qk_rope_head_dim', source),
    vHeadDim: num(j, 'v_head_dim', source),
    maxSeqLen: maxPositions,
    ...rope,
    ropeTheta: num(j, 'rope_theta', source, 10000),
    rmsNormEps: num(j, 'rms_norm_eps', source, 1e-6),
    nMtpModules: num(j, 'num_nextn_predict_layers', source, 0),
  };
  if (attention) config.attention = attention;
  return validateDeepseekConfig(config, source);
}

function parseRopeScaling(
  value: unknown,
  maxPositions: number,
  source: string | undefined,
): Pick<DeepseekConfig, 'originalSeqLen' | 'ropeFactor' | 'betaFast' | 'betaSlow' | 'mscale' | 'ropeMscale'> {
  if (value === undefined || value === null) {
    return { originalSeqLen: maxPositions, ropeFactor: 1, betaFast: 32, betaSlow: 1, mscale: 1, ropeMscale: 1 };
  }
  if (typeof value !== 'object' || Array.isArray(value)) configError('rope_scaling', 'must be an object or null', source);
  const r = value as Json;
  const type = r.type ?? r.rope_type;
  if (type !== 'yarn') configError('rope_scaling.type', `only 'yarn' is supported, got ${JSON.stringify(type)}`, source);
  const field = (key: string, fallback: number) => num(r, key, source === undefined ? 'rope_scaling' : `${source} rope_scaling`, fallback);
  const mscale = field('mscale_all_dim', 0);
  return {
    originalSeqLen: field('original_max_position_embeddings', maxPositions),
    ropeFactor: field('factor', 1),
    betaFast: field('beta_fast', 32),
    betaSlow: field('beta_slow', 1),
    mscale,
    ropeMscale: field('mscale', 1),
  };
}

/** Serialises a config as a Hugging Face DeepSeek-V3 `config.json` object (round-trips through fromHfConfig). */
export function toHfConfig(config: DeepseekConfig): Record<string, unknown> {
  const c = validateDeepseekConfig({ ...config });
  const out: Record<string, unknown> = {
    architectures: ['DeepseekV3ForCausalLM'],
    model_type: 'deepseek_v3',
    vocab_size: c.vocabSize,
    hidden_size: c.dim,
    intermediate_size: c.interDim,
    moe_intermediate_size: c.moeInterDim,
    num_hidden_layers: c.nLayers,
    first_k_dense_replace: c.nDenseLayers,
    moe_layer_freq: 1,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.attention ? c.attention.nKvHeads : c.nHeads,
    n_routed_experts: c.nRoutedExperts,
    n_shared_experts: c.nSharedExperts,
    num_experts_per_tok: c.nActivatedExperts,
    n_group: c.nExpertGroups,
    topk_group: c.nLimitedGroups,
    scoring_func: c.scoreFunc,
    routed_scaling_factor: c.routeScale,
    norm_topk_prob: c.scoreFunc === 'sigmoid',
    topk_method: c.useCorrectionBias ? 'noaux_tc' : c.nExpertGroups > 1 ? 'group_limited_greedy' : 'greedy',
    q_lora_rank: c.qLoraRank === 0 ? null : c.qLoraRank,
    kv_lora_rank: c.kvLoraRank,
    qk_nope_head_dim: c.qkNopeHeadDim,
    qk_rope_head_dim: c.qkRopeHeadDim,
    v_head_dim: c.vHeadDim,
    max_position_embeddings: c.maxSeqLen,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsNormEps,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    attention_bias: false,
    num_nextn_predict_layers: c.nMtpModules,
    torch_dtype: 'float32',
  };
  // rope_scaling carries YaRN; without it original = max positions (YaRN off).
  if (c.attention) out.deepline_attention = { ...c.attention };
  const ropeDefaults = c.ropeFactor === 1 && c.betaFast === 32 && c.betaSlow === 1 && c.mscale === 1 && c.ropeMscale === 1;
  if (yarnEnabled(c) || !ropeDefaults) {
    out.rope_scaling = {
      type: 'yarn',
      factor: c.ropeFactor,
      original_max_position_embeddings: c.originalSeqLen,
      beta_fast: c.betaFast,
      beta_slow: c.betaSlow,
      mscale: c.ropeMscale,
      mscale_all_dim: c.mscale,
    };
  }
  return out;
}

function parseDeeplineAttention(value: unknown, source: string | undefined): DeepseekConfig['attention'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) configError('deepline_attention', 'must be an object', source);
  // Field-level checks happen in validateDeepseekConfig.
  return { ...(value as NonNullable<DeepseekConfig['attention']>) };
}
