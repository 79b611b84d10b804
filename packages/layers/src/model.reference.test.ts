import { SeededRandom, initBackend, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DeepseekConfig, presetConfig } from './config.js';
import { DeepseekModel } from './model.js';
import { readModelDir } from './modelIo.js';
import { GOLDEN_MODEL_DIR, loadGolden, maxAbsDiff } from './testing/golden.js';
import { randomTensors, randomTokens } from './testing/randomModel.js';
import { reference64Forward } from './testing/reference64.js';

const base = presetConfig('tiny', {
  vocabSize: 64,
  dim: 32,
  interDim: 48,
  moeInterDim: 16,
  nLayers: 2,
  nDenseLayers: 1,
  nHeads: 2,
  kvLoraRank: 16,
  qkNopeHeadDim: 8,
  qkRopeHeadDim: 8,
  vHeadDim: 8,
  nMtpModules: 0,
});

// The configurations model.py supports but the shared golden does not cover.
const cases: { name: string; config: DeepseekConfig }[] = [
  {
    name: 'query LoRA + sigmoid + correction bias + 4 groups / 2 kept (top-2-sum) + YaRN + route_scale',
    config: {
      ...base,
      qLoraRank: 12,
      scoreFunc: 'sigmoid',
      useCorrectionBias: true,
      nRoutedExperts: 8,
      nExpertGroups: 4,
      nLimitedGroups: 2,
      nActivatedExperts: 3,
      routeScale: 2.5,
      qkRopeHeadDim: 16,
      maxSeqLen: 128,
      originalSeqLen: 32,
      ropeFactor: 4,
      mscale: 0.6,
      ropeMscale: 0.6,
    },
  },
  {
    name: 'softmax router, 4 groups / 2 kept (max group score), no query LoRA',
    config: { ...base, qLoraRank: 0, scoreFunc: 'softmax', useCorrectionBias: false, nRoutedExperts: 8, nExpertGroups: 4, nLimitedGroups: 2 },
  },
  {
    name: 'sigmoid without bias, one group, MTP depth 2',
    config: { ...base, scoreFunc: 'sigmoid', useCorrectionBias: false, nExpertGroups: 1, nLimitedGroups: 1, nMtpModules: 2 },
  },
];

describe('float64 spec reference', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('itself reproduces the model.py golden (so it is a valid truth)', async () => {
    const golden = await loadGolden();
    const { config, tensors } = await readModelDir(GOLDEN_MODEL_DIR);
    const ids = golden.ints('tokens').data;
    const tokens = [Array.from(ids.slice(0, 24)), Array.from(ids.slice(24))];
    const ref = reference64Forward(config, tensors, tokens);
    const flat = Float64Array.from(ref.logits.flatMap((seq) => seq.flatMap((v) => Array.from(v))));
    expect(maxAbsDiff(flat, golden.get('logits').data)).toBeLessThan(1e-4);
    expect(ref.routing[0]!.indices.flat()).toEqual(Array.from(golden.ints('act.layers.1.ffn.gate.indices').data));
  });

  for (const { name, config } of cases) {
    it(`matches the model on: ${name}`, () => {
      const tensors = randomTensors(config, 7);
      const tokens = randomTokens(new SeededRandom(3), 2, 12, config.vocabSize);
      const ref = reference64Forward(config, tensors, tokens);
      const model = DeepseekModel.fromTensors(config, tensors);
      const input = tf.tensor2d(tokens, [2, 12], 'int32');
      for (const attention of ['absorb', 'naive'] as const) {
        const out = model.forward(input, { attention, collectRouting: true, mtp: true });
        const expected = Float64Array.from(ref.logits.flatMap((seq) => seq.flatMap((v) => Array.from(v))));
        expect(maxAbsDiff(out.logits.dataSync(), expected)).toBeLessThan(1e-4);
        expect(out.routing!.map((r) => r.layer)).toEqual(ref.routing.map((r) => r.layer));
        out.routing!.forEach((r, i) => {
          expect(Array.from(r.indices.dataSync())).toEqual(ref.routing[i]!.indices.flat());
          expect(maxAbsDiff(r.weights.dataSync(), ref.routing[i]!.weights.flat())).toBeLessThan(1e-4);
        });
        expect(out.mtpLogits?.length ?? 0).toBe(config.nMtpModules);
        out.mtpLogits?.forEach((m, k) => {
          expect(m.shape).toEqual([2, 12 - k - 1, config.vocabSize]);
          const exp = Float64Array.from(ref.mtp[k]!.flatMap((seq) => seq.flatMap((v) => Array.from(v))));
          expect(maxAbsDiff(m.dataSync(), exp)).toBeLessThan(1e-4);
        });
        tf.dispose([out.logits, ...(out.mtpLogits ?? []), ...out.routing!.flatMap((r) => [r.scores, r.indices, r.weights])]);
      }
      input.dispose();
      model.dispose();
    });
  }
});
