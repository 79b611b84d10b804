export { LayersError, type LayersErrorContext } from './errors.js';
export {
  type DeepseekConfig,
  type DecoderAttentionConfig,
  type ScoreFunc,
  type PresetName,
  type ParameterCounts,
  PRESET_NAMES,
  presetConfig,
  validateDeepseekConfig,
  countParameters,
  yarnEnabled,
} from './config.js';
export { fromHfConfig, toHfConfig, type FromHfConfigOptions } from './hfConfig.js';
export { type Linear, DenseLinear, type DenseLinearOptions } from './linear.js';
export { rmsNorm, type RmsNormOptions } from './rmsNorm.js';
export {
  ropeFrequencies,
  ropeTables,
  applyRope,
  yarnMscale,
  type RopeConfig,
  type RopeTables,
  type RopeTablesOptions,
} from './rope.js';
export { MultiHeadLatentAttention, mlaSoftmaxScale, causalMask, type MlaForwardOptions } from './mla.js';
export { routeTokens, type GateOutput, type RouteTokensOptions } from './gate.js';
export { swiGlu, type SwiGluOptions } from './mlp.js';
export { MoeLayer, dispatchPlan, type DispatchPlan, type MoeForwardOptions, type RoutingInfo } from './moe.js';
export { DecoderBlock, type BlockForwardOptions } from './block.js';
export { KvCache, LayerKvCache, type AttentionImpl, type KvCacheOptions } from './kvCache.js';
export { WeightStore } from './weightStore.js';
export { modelWeightSpecs, mtpPrefix, type WeightSpec } from './weightSpecs.js';
export { modelPyToHfName } from './weightNames.js';
export { readModelDir, writeModelDir, readHfConfigFile, type HostTensor, type SaveModelOptions } from './modelIo.js';
export {
  DeepseekModel,
  type CreateModelOptions,
  type LoadModelOptions,
  type ForwardOptions,
  type ForwardOutput,
  type CreateCacheOptions,
} from './model.js';
export { stopGradient } from './stopGradient.js';
export { recomputeSublayer, type RecomputeSublayerOptions } from './recompute.js';
export {
  GroupedQueryAttention,
  gqaWeightShapes,
  hybridHeadWindows,
  hybridLayerWindows,
  type GqaOptions,
  type GqaForwardOptions,
} from './attention/gqa.js';
export {
  CrossAttention,
  crossAttentionWeightShapes,
  type CrossAttentionOptions,
  type CrossAttentionForwardOptions,
  type ContextKv,
} from './attention/crossAttention.js';
export { decoderGqaOptions } from './attention/decoderAttention.js';
