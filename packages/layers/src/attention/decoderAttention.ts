import type { DeepseekConfig } from '../config.js';
import { type GqaOptions, hybridHeadWindows } from './gqa.js';

/**
 * GQA options of decoder layer `layer` for a config with `attention.kind === 'gqa'`:
 * resolves the hybrid pattern (global every k-th layer, local heads) into per-head windows.
 */
export function decoderGqaOptions(config: DeepseekConfig, layer: number): GqaOptions {
  const a = config.attention!;
  const global = a.window === undefined || (a.globalEvery !== undefined && (layer + 1) % a.globalEvery === 0);
  let window: GqaOptions['window'];
  if (!global) window = a.localHeads === undefined ? a.window : hybridHeadWindows({ nHeads: config.nHeads, localHeads: a.localHeads, window: a.window! });
  return {
    dim: config.dim,
    nHeads: config.nHeads,
    nKvHeads: a.nKvHeads,
    headDim: a.headDim,
    rope: a.rope === false ? undefined : { theta: config.ropeTheta, maxSeqLen: config.maxSeqLen },
    window,
    relativeBias: a.relativeBiasMaxDistance === undefined ? undefined : { maxDistance: a.relativeBiasMaxDistance },
  };
}
