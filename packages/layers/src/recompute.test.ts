import { SeededRandom, initBackend, tf } from '@deepline/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeepseekConfig } from './config.js';
import { LayersError } from './errors.js';
import { DeepseekModel } from './model.js';
import { randomTensors, randomTokens } from './testing/randomModel.js';
import { microAllModesConfig } from './testing/microConfig.js';

const mla = microAllModesConfig();
const gqa: DeepseekConfig = { ...mla, attention: { kind: 'gqa', nKvHeads: 1, headDim: 4, window: 3, globalEvery: 2 } };
const B = 2;
const S = 6;

interface Run {
  loss: number;
  balance: number;
  grads: Map<string, Float32Array>;
  peakBytes: number;
}

/** Loss = random projection of main + MTP logits plus a term on the router scores (balance-loss input). */
async function run(config: DeepseekConfig, recompute: boolean, b = B, s = S): Promise<Run> {
  const model = DeepseekModel.fromTensors(config, randomTensors(config, 21, 0.3));
  const rng = new SeededRandom(4);
  const input = tf.tensor2d(randomTokens(rng, b, s, config.vocabSize), [b, s], 'int32');
  const r = tf.randomNormal([b, s, config.vocabSize], 0, 1, 'float32', 5);
  const weights = model.namedWeights();
  const before = tf.memory().numTensors;
  let balance = 0;
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
  const profile = await tf.profile(() => {
    result = tf.variableGrads(() => {
      const out = model.forward(input, { training: true, collectRouting: true, recompute });
      const logitsTerm = tf.sum(tf.mul(out.logits, r));
      const mtpTerm = tf.sum(tf.mul(out.mtpLogits![0]!, tf.slice(r, [0, 1, 0], [b, s - 1, config.vocabSize])));
      const routingTerm = tf.addN(out.routing!.map((x) => tf.sum(tf.square(x.scores))));
      balance = routingTerm.dataSync()[0]!;
      return tf.addN([logitsTerm, mtpTerm, routingTerm]) as tf.Scalar;
    }, [...weights.values()]);
  });
  const { value, grads } = result!;
  const out: Run = { loss: value.dataSync()[0]!, balance, grads: new Map(), peakBytes: profile.peakBytes };
  // An expert that received no token has no gradient; both passes must agree on which.
  for (const [name, v] of weights) if (grads[v.name]) out.grads.set(name, grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors, 'recompute leaks no tensors').toBe(before);
  tf.dispose([input, r]);
  model.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('forward({ recompute: true })', () => {
  afterAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    for (const [kind, config] of [['MLA', mla], ['GQA', gqa]] as const) {
      it(`gives the same loss and weight gradients as the plain pass (${kind}, ${backend})`, async () => {
        await initBackend({ backend });
        const plain = await run(config, false);
        const recomputed = await run(config, true);
        expect(Math.abs(recomputed.loss - plain.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(plain.loss)));
        expect(recomputed.balance).toBe(plain.balance);
        expect([...recomputed.grads.keys()]).toEqual([...plain.grads.keys()]);
        expect(plain.grads.size).toBeGreaterThan(config.nLayers * 8);
        for (const [name, g] of plain.grads) {
          let scale = 0;
          for (const v of g) scale = Math.max(scale, Math.abs(v));
          expect(scale, `${name} has a zero gradient`).toBeGreaterThan(0);
          // Float32 sums may associate differently (residual + sublayer gradient): 1e-5 relative.
          expect(maxAbsDiff(recomputed.grads.get(name)!, g), name).toBeLessThan(1e-5 * Math.max(1, scale));
        }
      });
    }
  }

  it('holds less memory at its peak than the plain pass (cpu)', async () => {
    await initBackend({ backend: 'cpu' });
    const deeper: DeepseekConfig = { ...mla, nLayers: 4, maxSeqLen: 64 };
    const plain = await run(deeper, false, 2, 32);
    const recomputed = await run(deeper, true, 2, 32);
    console.log(`recompute peak bytes: ${recomputed.peakBytes} vs plain ${plain.peakBytes}`);
    expect(recomputed.peakBytes).toBeLessThan(plain.peakBytes * 0.9);
  });

  it('is rejected with a KV cache', async () => {
    await initBackend({ backend: 'cpu' });
    const model = DeepseekModel.fromTensors(mla, randomTensors(mla, 1));
    const cache = model.createCache({ batchSize: 1 });
    const tokens = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    let error: unknown;
    try {
      model.forward(tokens, { cache, recompute: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LayersError);
    expect((error as LayersError).context).toMatchObject({ field: 'recompute' });
    tf.dispose(tokens);
    cache.dispose();
    model.dispose();
  });
});
