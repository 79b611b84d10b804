import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, countParameters, presetConfig, validateDeepseekConfig, yarnEnabled } from './config.js';
import { LayersError } from './errors.js';
import { fromHfConfig, toHfConfig } from './hfConfig.js';
import { mlaSoftmaxScale } from './mla.js';
import { ropeFrequencies } from './rope.js';
import { GOLDEN_MODEL_DIR } from './testing/golden.js';
import { modelWeightSpecs } from './weightSpecs.js';

const goldenHf = JSON.parse(readFileSync(join(GOLDEN_MODEL_DIR, 'config.json'), 'utf8'));

describe('HF config.json', () => {
  it('parses the golden config into model.py ModelArgs values', () => {
    const c = fromHfConfig(goldenHf);
    // golden_meta.json's model_args for this checkpoint
    expect(c).toMatchObject({
      vocabSize: 256,
      dim: 64,
      interDim: 128,
      moeInterDim: 32,
      nLayers: 3,
      nDenseLayers: 1,
      nHeads: 4,
      nRoutedExperts: 8,
      nSharedExperts: 1,
      nActivatedExperts: 2,
      nExpertGroups: 2,
      nLimitedGroups: 1,
      scoreFunc: 'softmax',
      routeScale: 1,
      useCorrectionBias: false,
      qLoraRank: 0,
      kvLoraRank: 32,
      qkNopeHeadDim: 16,
      qkRopeHeadDim: 8,
      vHeadDim: 16,
      maxSeqLen: 64,
      nMtpModules: 0,
    });
    expect(yarnEnabled(c)).toBe(false);
    expect(mlaSoftmaxScale(c)).toBeCloseTo(0.2041241452319315, 12); // golden_meta softmax_scale
  });

  it('round-trips every preset through toHfConfig/fromHfConfig', () => {
    for (const name of PRESET_NAMES) {
      const c = presetConfig(name);
      expect(fromHfConfig(JSON.parse(JSON.stringify(toHfConfig(c))))).toEqual(c);
    }
  });

  it('reads the published V3 rope_scaling and gives the spec softmax scale and YaRN range', () => {
    const v3 = fromHfConfig(toHfConfig(presetConfig('deepseek-v3')));
    expect(yarnEnabled(v3)).toBe(true);
    // spec §5: 192^-0.5 · 1.36889² = 0.13523
    expect(mlaSoftmaxScale(v3)).toBeCloseTo(0.13523, 4);
    // spec §6: low = 10, high = 23 → pairs < 10 untouched, pairs ≥ 23 divided by 40
    const plain = ropeFrequencies({ ...v3, maxSeqLen: 4096 });
    const yarn = ropeFrequencies(v3);
    for (let i = 0; i < 10; i++) expect(yarn[i]).toBe(plain[i]);
    for (let i = 23; i < 32; i++) expect(yarn[i]! / plain[i]!).toBeCloseTo(1 / 40, 6);
    expect(yarn[16]! / plain[16]!).toBeCloseTo(1 - (1 - 1 / 40) * ((16 - 10) / 13), 5);
    // V2-Lite mscale 0.707 → 0.11472
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: DeepSeek's config_16B.json literally uses 0.707
    expect(mlaSoftmaxScale({ ...v3, mscale: 0.707 })).toBeCloseTo(0.11472, 4);
  });

  it('names the field of a bad config', () => {
    const bad = (patch: Record<string, unknown>) => () => fromHfConfig({ ...goldenHf, ...patch }, { source: 'x/config.json' });
    expect(bad({ hidden_size: 'big' })).toThrow(/x\/config.json: config field 'hidden_size' must be a number/);
    expect(bad({ vocab_size: undefined })).toThrow(/'vocab_size' is missing/);
    expect(bad({ tie_word_embeddings: true })).toThrow(/tie_word_embeddings/);
    expect(bad({ scoring_func: 'relu' })).toThrow(/scoring_func/);
    expect(bad({ n_group: 3 })).toThrow(/nExpertGroups/);
    expect(bad({ qk_rope_head_dim: 7 })).toThrow(/qkRopeHeadDim/);
    expect(bad({ rope_scaling: { type: 'linear', factor: 2 } })).toThrow(/rope_scaling.type/);
    expect(bad({ model_type: 'llama' })).toThrow(/model_type/);
    expect(bad({ num_key_value_heads: 2 })).toThrow(/num_key_value_heads/);
    expect(() => fromHfConfig([1, 2])).toThrow(LayersError);
    expect(() => validateDeepseekConfig({ ...presetConfig('tiny'), nActivatedExperts: 9 })).toThrow(/nActivatedExperts/);
    expect(() => presetConfig('huge' as 'tiny')).toThrow(/unknown preset 'huge'/);
  });
});

describe('countParameters', () => {
  it('gives DeepSeek-V3 its published sizes (671B total, ~37B activated, ~14B MTP with shared head)', () => {
    const counts = countParameters(presetConfig('deepseek-v3'));
    // The report: 671B total, 37B activated; the HF checkpoint adds a 14B MTP module
    // (11.5B of its own weights + 1.85B for its copies of embedding and head).
    expect(counts.total / 1e9).toBeCloseTo(671.0, 0);
    expect(counts.activatedPerToken / 1e9).toBeGreaterThan(37);
    expect(counts.activatedPerToken / 1e9).toBeLessThan(38);
    expect((counts.mtp + 2 * 129280 * 7168) / 1e9).toBeCloseTo(13.4, 0);
  });

  it('agrees with the allocated weight shapes of a small config', () => {
    const c = presetConfig('tiny');
    const specs = modelWeightSpecs(c).filter((s) => !s.name.endsWith('e_score_correction_bias'));
    const size = (s: { shape: number[] }) => s.shape.reduce((a, b) => a * b, 1);
    const mtp = specs.filter((s) => s.name.startsWith(`model.layers.${c.nLayers}.`));
    const main = specs.filter((s) => !s.name.startsWith(`model.layers.${c.nLayers}.`));
    const counts = countParameters(c);
    expect(counts.total).toBe(main.reduce((a, s) => a + size(s), 0));
    expect(counts.mtp).toBe(mtp.reduce((a, s) => a + size(s), 0));
    // activated = total minus the (E - K) routed experts not used, per MoE layer
    const expert = 3 * c.dim * c.moeInterDim;
    expect(counts.activatedPerToken).toBe(counts.total - (c.nLayers - c.nDenseLayers) * (c.nRoutedExperts - c.nActivatedExperts) * expert);
  });
});
