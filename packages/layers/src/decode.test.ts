import { SeededRandom, initBackend, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from './config.js';
import { LayersError } from './errors.js';
import { DeepseekModel } from './model.js';
import { maxAbsDiff } from './testing/golden.js';
import { randomTensors, randomTokens } from './testing/randomModel.js';

const config = presetConfig('tiny', { vocabSize: 64, dim: 32, interDim: 48, moeInterDim: 16, nHeads: 2, kvLoraRank: 16, qLoraRank: 8, nMtpModules: 0 });

/** Logits of tokens[:, from:to] fed as one chunk at position `from` with the cache. */
function chunk(model: DeepseekModel, tokens: number[][], from: number, to: number, cache: ReturnType<DeepseekModel['createCache']>): Float32Array {
  const input = tf.tensor2d(
    tokens.map((row) => row.slice(from, to)),
    [tokens.length, to - from],
    'int32',
  );
  const out = model.forward(input, { cache, startPos: from });
  const data = out.logits.dataSync() as Float32Array;
  tf.dispose([input, out.logits]);
  return data;
}

/** Full-pass logits rows from..to-1, [B, to-from, V] flattened. */
function rows(full: Float32Array, b: number, s: number, v: number, from: number, to: number): Float32Array {
  const out = new Float32Array(b * (to - from) * v);
  for (let i = 0; i < b; i++) out.set(full.subarray((i * s + from) * v, (i * s + to) * v), i * (to - from) * v);
  return out;
}

describe('incremental decoding from any start position', () => {
  let model: DeepseekModel;
  let tokens: number[][];
  let full: Float32Array;
  const S = 14;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    model = DeepseekModel.fromTensors(config, randomTensors(config, 11));
    tokens = randomTokens(new SeededRandom(5), 2, S, config.vocabSize);
    const input = tf.tensor2d(tokens, [2, S], 'int32');
    const out = model.forward(input);
    full = out.logits.dataSync() as Float32Array;
    tf.dispose([input, out.logits]);
  });

  for (const attention of ['absorb', 'naive'] as const) {
    it(`${attention}: uneven chunks (5, 1, 3, 1, 4) equal the full pass`, () => {
      const cache = model.createCache({ batchSize: 2, attention });
      const bounds = [0, 5, 6, 9, 10, 14];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const got = chunk(model, tokens, bounds[i]!, bounds[i + 1]!, cache);
        expect(maxAbsDiff(got, rows(full, 2, S, config.vocabSize, bounds[i]!, bounds[i + 1]!))).toBeLessThan(1e-4);
      }
      expect(cache.length).toBe(S);
      cache.dispose();
    });

    it(`${attention}: rewinding overwrites rejected positions`, () => {
      const cache = model.createCache({ batchSize: 2, attention });
      chunk(model, tokens, 0, 8, cache);
      // Feed three wrong tokens at 8..10, then rewind to 8 and continue with the real ones.
      const wrong = tokens.map((row) => row.map((t) => (t + 1) % config.vocabSize));
      chunk(model, wrong, 8, 11, cache);
      expect(cache.length).toBe(11);
      const got = chunk(model, tokens, 8, 10, cache);
      expect(cache.length).toBe(10);
      expect(maxAbsDiff(got, rows(full, 2, S, config.vocabSize, 8, 10))).toBeLessThan(1e-4);
      cache.dispose();
    });
  }

  it('rejects gaps, batch and attention mismatches, and positions past maxSeqLen', () => {
    const cache = model.createCache({ batchSize: 2, maxSeqLen: 6 });
    expect(() => chunk(model, tokens, 2, 3, cache)).toThrow(/past the 0 cached positions/);
    expect(() => chunk(model, tokens, 0, 7, cache)).toThrow(/exceed maxSeqLen 6/);
    const single = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(() => model.forward(single, { cache })).toThrow(/batch 2/);
    expect(() => model.forward(single, { cache: model.createCache({ batchSize: 1 }), attention: 'naive' })).toThrow(LayersError);
    expect(() => model.createCache({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => model.createCache({ batchSize: 1, maxSeqLen: 10_000 })).toThrow(/maxSeqLen/);
    single.dispose();
    cache.dispose();
  });

  it('rejects bad tokens with a clear error', () => {
    const floats = tf.tensor2d([[1, 2]], [1, 2], 'float32');
    expect(() => model.forward(floats as tf.Tensor2D)).toThrow(/int32 \[B, S\]/);
    const outOfRange = tf.tensor2d([[1, 64]], [1, 2], 'int32');
    expect(() => model.forward(outOfRange)).toThrow(/token 64 at flat index 1/);
    tf.dispose([floats, outOfRange]);
  });

  it('does not leak tensors across repeated forward and decode calls', () => {
    const input = tf.tensor2d(tokens, [2, S], 'int32');
    const step = tf.tensor2d([[1], [2]], [2, 1], 'int32');
    const run = () => {
      const out = model.forward(input, { collectRouting: true, returnHidden: true });
      tf.dispose([out.logits, out.hidden!, ...out.routing!.flatMap((r) => [r.scores, r.indices, r.weights])]);
      const cache = model.createCache({ batchSize: 2 });
      model.forward(input, { cache }).logits.dispose();
      for (let p = S; p < S + 3; p++) model.forward(step, { cache, startPos: p }).logits.dispose();
      cache.dispose();
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    // A live cache holds exactly two tensors per layer.
    const cache = model.createCache({ batchSize: 2, attention: 'naive' });
    model.forward(input, { cache }).logits.dispose();
    expect(tf.memory().numTensors).toBe(before + 2 * config.nLayers);
    cache.dispose();
    tf.dispose([input, step]);
  });
});
