import { initBackend, tf } from '@deepline/core';
import { DeepseekModel, presetConfig } from '@deepline/layers';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { deepseekTrainable } from './deepseekTrainable.js';
import { cyclicSource } from './testing/fixtures.js';
import { Trainer } from './trainer.js';

// A very small DeepSeek-V3: 1 dense + 1 MoE block (sigmoid router with correction bias), MTP depth 1.
const config = presetConfig('tiny', {
  vocabSize: 32,
  dim: 32,
  interDim: 48,
  moeInterDim: 16,
  nHeads: 2,
  nRoutedExperts: 4,
  nActivatedExperts: 2,
  nExpertGroups: 1,
  nLimitedGroups: 1,
  qLoraRank: 0,
  kvLoraRank: 16,
  qkNopeHeadDim: 8,
  qkRopeHeadDim: 8,
  vHeadDim: 8,
  maxSeqLen: 32,
  originalSeqLen: 32,
});

describe('training @deepline/layers DeepseekModel', () => {
  it('loss falls, gate biases move, MTP and balance losses are active, the checkpoint loads with DeepseekModel.load', async () => {
    // wasm: the sparse MoE dispatch's gather gradient is very slow on the cpu backend.
    await initBackend({ backend: 'wasm' });
    const dir = await makeTempDir('trainer-deepseek-');
    try {
      const model = DeepseekModel.create(config, { seed: 3, initStd: 0.05 });
      const trainable = deepseekTrainable(model);
      const biasNames = [...model.correctionBiases().keys()];
      expect(biasNames).toEqual([
        'model.layers.1.mlp.gate.e_score_correction_bias',
        'model.layers.2.mlp.gate.e_score_correction_bias',
      ]);
      const trainer = new Trainer({
        model: trainable,
        data: cyclicSource({ vocabSize: 32, seqLen: 13, count: 8, batchSize: 4 }),
        schedule: { kind: 'cosine', peakLr: 0.01, warmupSteps: 2, totalSteps: 12, minLr: 0.001 },
        maxSteps: 12,
        moe: { balanceAlpha: 0.001, biasGamma: 0.001 },
        checkpoint: { dir, every: 12 },
        progress: false,
      });
      const first = (await trainer.trainStep())!;
      expect(first.mtpLoss).toBeGreaterThan(0);
      expect(first.balanceLoss).toBeGreaterThan(0);
      expect(Object.keys(first.expertLoad).sort()).toEqual(['1', '2']);
      let last = first;
      for (let i = 1; i < 12; i++) last = (await trainer.trainStep())!;
      expect(last.lmLoss).toBeLessThan(first.lmLoss * 0.8);
      for (const name of biasNames)
        expect([...model.correctionBiases().get(name)!.dataSync()].some((b) => b !== 0)).toBe(true);
      const path = await trainer.saveCheckpoint();
      const loaded = await DeepseekModel.load(`${path}/model`);
      const tokens = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
      const a = model.forward(tokens).logits;
      const b = loaded.forward(tokens).logits;
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
      expect([...loaded.correctionBiases().get(biasNames[0]!)!.dataSync()]).toEqual([
        ...model.correctionBiases().get(biasNames[0]!)!.dataSync(),
      ]);
      tf.dispose([tokens, a, b]);
      loaded.dispose();
      model.dispose();
    } finally {
      await removeDir(dir);
    }
  }, 60_000);

  it('trains with recompute: the same loss trajectory and weights as without it (cpu)', async () => {
    await initBackend({ backend: 'cpu' });
    const train = async (recompute: boolean) => {
      const model = DeepseekModel.create(config, { seed: 5, initStd: 0.05 });
      const trainer = new Trainer({
        model: deepseekTrainable(model),
        data: cyclicSource({ vocabSize: 32, seqLen: 9, count: 4, batchSize: 2 }),
        schedule: { kind: 'constant', lr: 0.01 },
        maxSteps: 3,
        moe: { balanceAlpha: 0.001, biasGamma: 0.001 },
        recompute,
        progress: false,
      });
      const steps = [];
      for (let i = 0; i < 3; i++) steps.push((await trainer.trainStep())!);
      const weights = new Map([...model.namedWeights()].map(([n, v]) => [n, v.dataSync() as Float32Array]));
      model.dispose();
      return { steps, weights };
    };
    const plain = await train(false);
    const recomputed = await train(true);
    for (const [i, p] of plain.steps.entries()) {
      const r = recomputed.steps[i]!;
      expect(p.skipped).toBe(false);
      expect(p.mtpLoss).toBeGreaterThan(0);
      expect(p.balanceLoss).toBeGreaterThan(0);
      expect({ loss: r.loss, lm: r.lmLoss, mtp: r.mtpLoss, balance: r.balanceLoss, load: r.expertLoad }).toEqual({
        loss: p.loss,
        lm: p.lmLoss,
        mtp: p.mtpLoss,
        balance: p.balanceLoss,
        load: p.expertLoad,
      });
      expect(r.gradNorm).toBeCloseTo(p.gradNorm, 5);
    }
    expect(plain.steps.at(-1)!.lmLoss).toBeLessThan(plain.steps[0]!.lmLoss);
    for (const [name, w] of plain.weights) {
      const v = recomputed.weights.get(name)!;
      let diff = 0;
      for (let i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(w[i]! - v[i]!));
      expect(diff, name).toBeLessThan(1e-6);
    }
  }, 60_000);
});
