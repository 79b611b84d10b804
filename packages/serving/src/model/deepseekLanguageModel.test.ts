import { initBackend, tf } from '@deepline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { resolveSamplingParams } from '../sampling/sampler.js';
import { referenceGreedy, tinyDeepseek } from '../testing/tinyModel.js';
import { DeepseekLanguageModel } from './deepseekLanguageModel.js';

describe('DeepseekLanguageModel', () => {
  let model: ReturnType<typeof tinyDeepseek>;
  let lm: DeepseekLanguageModel;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    model = tinyDeepseek();
    lm = new DeepseekLanguageModel(model);
  });
  afterAll(() => {
    lm.dispose();
    model.dispose();
  });

  it('prefill + batched decode of rows at different positions give the same logits as forward', async () => {
    const a = lm.createSequence();
    const b = lm.createSequence();
    // Ragged batched prefill: rows of 5 and 2 tokens in one pass.
    const [la, lb] = (await lm.prefill([
      { sequence: a, tokens: [5, 6, 7, 8, 9] },
      { sequence: b, tokens: [100, 200] },
    ])) as [Float32Array, Float32Array];
    const [da, db] = (await lm.decode([
      { sequence: a, token: 11 },
      { sequence: b, token: 12 },
    ])) as Float32Array[];
    const ref = (tokens: number[]) =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(tokens, [1, tokens.length], 'int32'));
        return tf.slice(logits, [0, tokens.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
      });
    const close = (x: Float32Array, y: Float32Array) => {
      let max = 0;
      for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
      return max;
    };
    expect(close(la, ref([5, 6, 7, 8, 9]))).toBeLessThan(1e-4);
    expect(close(lb, ref([100, 200]))).toBeLessThan(1e-4);
    expect(close(da!, ref([5, 6, 7, 8, 9, 11]))).toBeLessThan(1e-4);
    expect(close(db!, ref([100, 200, 12]))).toBeLessThan(1e-4);
    // A mixed step: a new prompt (3 tokens) joins the two decoding rows in one pass.
    const c = lm.createSequence();
    const mixed = await lm.step([{ sequence: c, tokens: [7, 8, 9] }], [
      { sequence: a, token: 13 },
      { sequence: b, token: 14 },
    ]);
    expect(close(mixed.prefill[0] as Float32Array, ref([7, 8, 9]))).toBeLessThan(1e-4);
    expect(close(mixed.decode[0] as Float32Array, ref([5, 6, 7, 8, 9, 11, 13]))).toBeLessThan(1e-4);
    expect(close(mixed.decode[1] as Float32Array, ref([100, 200, 12, 14]))).toBeLessThan(1e-4);
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('batched float linears go through the constant-weight matmul kernel when one is registered, with the same logits', async () => {
    // Stand-in for @deepline/kernels-native's kernel (it packs B once on wasm): here the cpu
    // BatchMatMul, so the logits must match the tf.matMul path bit for bit.
    const batchMatMul = tf.getKernel('BatchMatMul', 'cpu')!.kernelFunc;
    let calls = 0;
    const run = async () => {
      const seq = lm.createSequence();
      const [logits] = (await lm.prefill([{ sequence: seq, tokens: [5, 6, 7, 8, 9] }])) as Float32Array[];
      seq.dispose();
      return Array.from(logits!);
    };
    const plain = await run();
    tf.registerKernel({
      kernelName: 'DeeplineConstantMatMul',
      backendName: 'cpu',
      kernelFunc: (args) => {
        calls++;
        return batchMatMul({ ...args, attrs: { transposeA: false, transposeB: false } });
      },
    });
    try {
      expect(await run()).toEqual(plain);
      expect(calls).toBeGreaterThan(0);
    } finally {
      tf.unregisterKernel('DeeplineConstantMatMul', 'cpu');
    }
  });

  it('greedy rows get the argmax id of the logits instead of the logits', async () => {
    const a = lm.createSequence();
    const b = lm.createSequence();
    const argmaxOf = (tokens: number[]) =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(tokens, [1, tokens.length], 'int32'));
        return tf.argMax(tf.reshape(tf.slice(logits, [0, tokens.length - 1, 0], [1, 1, -1]), [-1])).dataSync()[0];
      });
    const first = await lm.prefill([
      { sequence: a, tokens: [3, 1, 4, 1, 5], greedy: true },
      { sequence: b, tokens: [9, 2, 6], greedy: true },
    ]);
    expect(first).toEqual([argmaxOf([3, 1, 4, 1, 5]), argmaxOf([9, 2, 6])]);
    const next = await lm.decode([
      { sequence: a, token: 7, greedy: true },
      { sequence: b, token: 8, greedy: true },
    ]);
    expect(next).toEqual([argmaxOf([3, 1, 4, 1, 5, 7]), argmaxOf([9, 2, 6, 8])]);
    // One row wanting its logits gets every row's logits back.
    const mixed = await lm.decode([
      { sequence: a, token: 2, greedy: true },
      { sequence: b, token: 3 },
    ]);
    expect(mixed.every((m) => m instanceof Float32Array)).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('greedy generation through the engine equals the library for concurrent requests, without leaking tensors', async () => {
    const engine = new Engine({ model: lm, decode: (ids) => ids.join(' '), maxPrefillTokensPerStep: 4 });
    const prompts = [[1, 2, 3], [400, 3, 9, 27, 81, 243, 7], [42]];
    const expected = prompts.map((p) => referenceGreedy(model, p, 8));
    const before = tf.memory().numTensors;
    const results = await Promise.all(prompts.map((p) => engine.complete({ promptTokens: p, maxTokens: 8, sampling: resolveSamplingParams({ temperature: 0 }) })));
    expect(results.map((r) => r.tokens)).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
  });
});
