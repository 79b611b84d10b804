import { join } from 'node:path';
import { initBackend, tf } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DeepseekConfig, countParameters, presetConfig } from '../config.js';
import { fromHfConfig, toHfConfig } from '../hfConfig.js';
import { DeepseekModel } from '../model.js';
import { maxAbsDiff } from '../testing/golden.js';
import { randomTensors } from '../testing/randomModel.js';
import { modelWeightSpecs } from '../weightSpecs.js';
import { decoderGqaOptions } from './decoderAttention.js';

const base = presetConfig('tiny', { vocabSize: 40, dim: 16, interDim: 24, moeInterDim: 8, nHeads: 4, nLayers: 3, nMtpModules: 1 });
const hybrid: DeepseekConfig = {
  ...base,
  attention: { kind: 'gqa', nKvHeads: 2, headDim: 4, window: 3, globalEvery: 3, localHeads: 2, relativeBiasMaxDistance: 4 },
};

function logits(model: DeepseekModel, rows: number[][]): Float32Array {
  const t = tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
  const out = model.forward(t);
  const data = out.logits.dataSync() as Float32Array;
  tf.dispose([t, out.logits]);
  return data;
}

describe('decoder with GQA / sliding-window / hybrid attention', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('resolves the hybrid pattern per layer and head', () => {
    expect(decoderGqaOptions(hybrid, 0).window).toEqual([3, 3, undefined, undefined]);
    expect(decoderGqaOptions(hybrid, 2).window).toBeUndefined();
    expect(decoderGqaOptions({ ...hybrid, attention: { kind: 'gqa', nKvHeads: 4, headDim: 4, window: 2 } }, 1).window).toBe(2);
    const specs = modelWeightSpecs(hybrid).filter((s) => !s.name.endsWith('e_score_correction_bias'));
    expect(specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0)).toBe(countParameters(hybrid).total + countParameters(hybrid).mtp);
  });

  it('window 1 everywhere makes each position depend only on its own token', () => {
    const local: DeepseekConfig = { ...base, nMtpModules: 0, attention: { kind: 'gqa', nKvHeads: 2, headDim: 4, window: 1 } };
    const global: DeepseekConfig = { ...local, attention: { kind: 'gqa', nKvHeads: 2, headDim: 4 } };
    const v = base.vocabSize;
    for (const [config, independent] of [
      [local, true],
      [global, false],
    ] as const) {
      const model = DeepseekModel.fromTensors(config, randomTensors(config, 2, 0.3));
      const a = logits(model, [[1, 2, 3, 4, 5]]);
      const b = logits(model, [[9, 2, 3, 4, 5]]);
      const later = maxAbsDiff(a.subarray(v), b.subarray(v));
      if (independent) expect(later).toBe(0);
      else expect(later).toBeGreaterThan(1e-4);
      model.dispose();
    }
  });

  it('decodes with the cache like the full pass, trains, and round-trips through an HF dir', async () => {
    const model = DeepseekModel.fromTensors(hybrid, randomTensors(hybrid, 5, 0.3));
    const rows = [
      [1, 5, 7, 2, 9, 11, 3, 8],
      [4, 4, 6, 0, 1, 2, 30, 31],
    ];
    const full = logits(model, rows);
    const cache = model.createCache({ batchSize: 2 });
    const parts: Float32Array[] = [];
    for (const [from, to] of [
      [0, 3],
      [3, 4],
      [4, 8],
    ] as const) {
      const t = tf.tensor2d(
        rows.map((r) => r.slice(from, to)),
        [2, to - from],
        'int32',
      );
      const out = model.forward(t, { cache, startPos: from });
      parts.push(out.logits.dataSync() as Float32Array);
      tf.dispose([t, out.logits]);
    }
    cache.dispose();
    const v = hybrid.vocabSize;
    for (let b = 0; b < 2; b++) {
      const got = [parts[0]!.subarray(b * 3 * v, (b + 1) * 3 * v), parts[1]!.subarray(b * v, (b + 1) * v), parts[2]!.subarray(b * 4 * v, (b + 1) * 4 * v)];
      const joined = new Float32Array(8 * v);
      let o = 0;
      for (const g of got) {
        joined.set(g, o);
        o += g.length;
      }
      expect(maxAbsDiff(joined, full.subarray(b * 8 * v, (b + 1) * 8 * v))).toBeLessThan(1e-5);
    }
    // gradients reach the relative bias and the GQA projections of the MTP block too
    const input = tf.tensor2d(rows, [2, 8], 'int32');
    const weights = model.namedWeights();
    const names = ['model.layers.0.self_attn.relative_bias.weight', 'model.layers.3.self_attn.k_proj.weight'];
    const { grads, value } = tf.variableGrads(() => {
      const out = model.forward(input, { training: true });
      return tf.add(tf.sum(tf.square(out.logits)), tf.sum(tf.square(out.mtpLogits![0]!))) as tf.Scalar;
    }, names.map((n) => weights.get(n)!));
    for (const n of names) expect(tf.sum(tf.abs(grads[weights.get(n)!.name]!)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([input, value, ...Object.values(grads)]);
    // HF round trip keeps the attention config (non-HF key) and the weights
    expect(fromHfConfig(toHfConfig(hybrid))).toEqual(hybrid);
    const dir = await makeTempDir('layers-gqa-');
    await model.save(join(dir, 'm'));
    const loaded = await DeepseekModel.load(join(dir, 'm'));
    expect(maxAbsDiff(logits(loaded, rows), full)).toBe(0);
    await removeDir(dir);
    loaded.dispose();
    model.dispose();
  });

  it('rejects inconsistent attention configs', () => {
    const bad = (attention: object) => () => fromHfConfig(toHfConfig({ ...base, attention: { kind: 'gqa', nKvHeads: 2, headDim: 4, ...attention } as DeepseekConfig['attention'] }));
    expect(bad({ nKvHeads: 3 })).toThrow(/attention.nKvHeads/);
    expect(bad({ globalEvery: 2 })).toThrow(/attention.window' is required/);
    expect(bad({ headDim: 3 })).toThrow(/attention.headDim/);
  });
});
