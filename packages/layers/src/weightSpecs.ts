import { decoderGqaOptions } from './attention/decoderAttention.js';
import { gqaWeightShapes } from './attention/gqa.js';
import type { DeepseekConfig } from './config.js';
import { mlaWeightShapes } from './mla.js';
import { mlpWeightShapes } from './mlp.js';
import { moeWeightShapes } from './moe.js';

/** One tensor of the model: HF name, shape, how it is held and how it is initialised. */
export interface WeightSpec {
  name: string;
  shape: number[];
  /** `linear`: a Linear projection; `param`: other trainable tensor; `buffer`: non-trainable (gate bias). */
  kind: 'linear' | 'param' | 'buffer';
  init: 'normal' | 'ones' | 'zeros';
}

/** HF prefix of MTP module k (0-based): it follows the main blocks. */
export function mtpPrefix(config: DeepseekConfig, k: number): string {
  return `model.layers.${config.nLayers + k}`;
}

/** Every tensor of a DeepSeek model in HF naming, in a fixed order (init consumes randomness in this order). */
export function modelWeightSpecs(config: DeepseekConfig): WeightSpec[] {
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [config.vocabSize, config.dim], kind: 'param', init: 'normal' }];
  for (let i = 0; i < config.nLayers; i++) specs.push(...blockSpecs(config, `model.layers.${i}`, i, i >= config.nDenseLayers));
  specs.push({ name: 'model.norm.weight', shape: [config.dim], kind: 'param', init: 'ones' });
  specs.push({ name: 'lm_head.weight', shape: [config.vocabSize, config.dim], kind: 'linear', init: 'normal' });
  for (let k = 0; k < config.nMtpModules; k++) {
    const p = mtpPrefix(config, k);
    specs.push({ name: `${p}.enorm.weight`, shape: [config.dim], kind: 'param', init: 'ones' });
    specs.push({ name: `${p}.hnorm.weight`, shape: [config.dim], kind: 'param', init: 'ones' });
    specs.push({ name: `${p}.eh_proj.weight`, shape: [config.dim, 2 * config.dim], kind: 'linear', init: 'normal' });
    specs.push(...blockSpecs(config, p, config.nLayers + k, true));
    specs.push({ name: `${p}.shared_head.norm.weight`, shape: [config.dim], kind: 'param', init: 'ones' });
  }
  return specs;
}

function blockSpecs(config: DeepseekConfig, prefix: string, layer: number, isMoe: boolean): WeightSpec[] {
  const out: WeightSpec[] = [{ name: `${prefix}.input_layernorm.weight`, shape: [config.dim], kind: 'param', init: 'ones' }];
  if (config.attention) {
    for (const w of gqaWeightShapes(decoderGqaOptions(config, layer), `${prefix}.self_attn`)) {
      out.push({ ...w, init: w.kind === 'linear' ? 'normal' : 'zeros' });
    }
  } else {
    for (const w of mlaWeightShapes(config, `${prefix}.self_attn`)) {
      out.push({ name: w.name, shape: w.shape, kind: w.kind === 'linear' ? 'linear' : 'param', init: w.kind === 'linear' ? 'normal' : 'ones' });
    }
  }
  out.push({ name: `${prefix}.post_attention_layernorm.weight`, shape: [config.dim], kind: 'param', init: 'ones' });
  if (isMoe) {
    for (const w of moeWeightShapes(config, `${prefix}.mlp`)) out.push({ ...w, init: w.kind === 'buffer' ? 'zeros' : 'normal' });
  } else {
    for (const w of mlpWeightShapes(`${prefix}.mlp`, config.dim, config.interDim)) out.push({ ...w, kind: 'linear', init: 'normal' });
  }
  return out;
}
