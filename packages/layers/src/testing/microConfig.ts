import { type DeepseekConfig, presetConfig } from '../config.js';

/**
 * Every mode at once — query LoRA, sigmoid routing with bias and groups, a dense and an MoE
 * block (routed + shared experts), MTP — small enough for float64 finite differences.
 */
export function microAllModesConfig(): DeepseekConfig {
  return presetConfig('tiny', {
    vocabSize: 24,
    dim: 16,
    interDim: 24,
    moeInterDim: 8,
    nLayers: 2,
    nDenseLayers: 1,
    nHeads: 2,
    qLoraRank: 8,
    kvLoraRank: 8,
    qkNopeHeadDim: 4,
    qkRopeHeadDim: 4,
    vHeadDim: 4,
    nRoutedExperts: 4,
    nActivatedExperts: 2,
    nSharedExperts: 1,
    nExpertGroups: 2,
    nLimitedGroups: 2,
    nMtpModules: 1,
  });
}
