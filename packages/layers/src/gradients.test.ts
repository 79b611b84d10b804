import { SeededRandom, initBackend, tf } from '@deepline/core';
import { afterAll, describe, expect, it } from 'vitest';
import { DeepseekModel } from './model.js';
import type { HostTensor } from './modelIo.js';
import { randomTensors, randomTokens } from './testing/randomModel.js';
import { reference64Forward } from './testing/reference64.js';
import { microAllModesConfig } from './testing/microConfig.js';

const config = microAllModesConfig();
const B = 2;
const S = 6;

/** Fixed random projection of all logits (main + MTP) to a scalar, in float64. */
function referenceLoss(tensors: Map<string, HostTensor>, tokens: number[][], r: Float64Array, rMtp: Float64Array): number {
  const out = reference64Forward(config, tensors, tokens);
  let loss = 0;
  let i = 0;
  for (const seq of out.logits) for (const row of seq) for (const v of row) loss += v * r[i++]!;
  i = 0;
  for (const seq of out.mtp[0]!) for (const row of seq) for (const v of row) loss += v * rMtp[i++]!;
  return loss;
}

describe('gradients (float64 central differences of the spec reference)', () => {
  const tensors = randomTensors(config, 21, 0.3);
  const rng = new SeededRandom(4);
  const tokens = randomTokens(rng, B, S, config.vocabSize);
  const r = Float64Array.from({ length: B * S * config.vocabSize }, () => rng.normal());
  const rMtp = Float64Array.from({ length: B * (S - 1) * config.vocabSize }, () => rng.normal());
  const results = new Map<string, Map<string, Float32Array>>();

  afterAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`reach every trainable weight and match finite differences on ${backend}`, async () => {
      await initBackend({ backend });
      const model = DeepseekModel.fromTensors(config, tensors);
      const input = tf.tensor2d(tokens, [B, S], 'int32');
      const rT = tf.tensor3d(Float32Array.from(r), [B, S, config.vocabSize]);
      const rMtpT = tf.tensor3d(Float32Array.from(rMtp), [B, S - 1, config.vocabSize]);
      const weights = model.namedWeights();
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(input, { training: true });
        return tf.add(tf.sum(tf.mul(out.logits, rT)), tf.sum(tf.mul(out.mtpLogits![0]!, rMtpT))) as tf.Scalar;
      }, [...weights.values()]);
      const lossValue = value.dataSync()[0]!;
      expect(lossValue).toBeCloseTo(referenceLoss(tensors, tokens, r, rMtp), 2);
      const byName = new Map<string, Float32Array>();
      for (const [name, v] of weights) byName.set(name, grads[v.name]!.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      results.set(backend, byName);

      // Every trainable tensor (including MTP weights and router gates) gets a gradient.
      expect(byName.size).toBe([...tensors.keys()].filter((n) => !n.endsWith('e_score_correction_bias')).length);
      const dirRng = new SeededRandom(9);
      const eps = 1e-4;
      for (const [name, g] of byName) {
        let norm = 0;
        for (const v of g) norm += v * v;
        expect(norm, `${name} has a zero gradient`).toBeGreaterThan(0);
        const base = tensors.get(name)!;
        const dir = Float64Array.from({ length: g.length }, () => dirRng.normal());
        const shifted = (sign: number) => {
          const copy = new Map(tensors);
          copy.set(name, { shape: base.shape, data: base.data.map((v, i) => v + sign * eps * dir[i]!) });
          return referenceLoss(copy, tokens, r, rMtp);
        };
        const fd = (shifted(1) - shifted(-1)) / (2 * eps);
        let analytic = 0;
        for (let i = 0; i < g.length; i++) analytic += g[i]! * dir[i]!;
        expect(Math.abs(analytic - fd), `${name}: autodiff ${analytic} vs finite difference ${fd}`).toBeLessThan(2e-3 + 2e-3 * Math.abs(fd));
      }
      tf.dispose([input, rT, rMtpT]);
      model.dispose();
    });
  }

  it('cpu and wasm gradients agree', () => {
    const cpu = results.get('cpu')!;
    const wasm = results.get('wasm')!;
    for (const [name, g] of cpu) {
      const w = wasm.get(name)!;
      let m = 0;
      for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]! - w[i]!));
      expect(m, name).toBeLessThan(1e-3);
    }
  });
});
