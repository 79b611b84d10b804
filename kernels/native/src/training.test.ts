import { initBackend, tf } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { DeepseekModel, presetConfig } from '@deepline/layers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nativeBatchMatMulCalls } from './nativeBatchMatMul.js';
import {
  nativeKernelsAvailable,
  registerNativeKernels,
  unregisterNativeKernels,
} from './registerNativeKernels.js';

// A few Adam steps of a tiny @deepline/layers DeepSeek model (dense + MoE layer, MLA) on
// tfjs-wasm: the loss trajectory with the native GEMM must match the wasm kernels' one.
const config = presetConfig('tiny', {
  vocabSize: 48,
  dim: 32,
  interDim: 64,
  moeInterDim: 24,
  nLayers: 2,
  nDenseLayers: 1,
  nHeads: 2,
  qLoraRank: 16,
  kvLoraRank: 16,
  qkNopeHeadDim: 8,
  qkRopeHeadDim: 4,
  vHeadDim: 8,
  nRoutedExperts: 4,
  nActivatedExperts: 2,
  nExpertGroups: 1,
  nLimitedGroups: 1,
  nMtpModules: 0,
  maxSeqLen: 16,
  originalSeqLen: 16,
});

const available = nativeKernelsAvailable().available;

function losses(steps: number): number[] {
  const model = DeepseekModel.create(config, { seed: 7 });
  const optimizer = tf.train.adam(3e-3);
  const weights = [...model.namedWeights()].map(([, v]) => v as tf.Variable);
  const out: number[] = [];
  for (let step = 0; step < steps; step++) {
    const ids = Array.from(
      { length: 4 * 13 },
      (_, i) => (i * 5 + step * 3 + (i % 7)) % config.vocabSize,
    );
    const tokens = tf.tensor2d(ids, [4, 13], 'int32');
    const loss = optimizer.minimize(
      () =>
        tf.tidy(() => {
          const inputs = tf.slice(tokens, [0, 0], [4, 12]);
          const targets = tf.slice(tokens, [0, 1], [4, 12]);
          const logits = model.forward(inputs, { training: true }).logits;
          return tf.losses.softmaxCrossEntropy(
            tf.oneHot(targets, config.vocabSize),
            logits,
          ) as tf.Scalar;
        }),
      true,
      weights,
    )!;
    out.push(loss.dataSync()[0]!);
    tf.dispose([loss, tokens]);
  }
  optimizer.dispose();
  model.dispose();
  return out;
}

beforeAll(async () => {
  await registerWasmKernels();
  await initBackend({ backend: 'wasm' });
});

afterAll(async () => {
  await unregisterNativeKernels();
});

it.runIf(available)(
  'training a tiny @deepline/layers model gives the same losses with the native GEMM as with the wasm kernels',
  async () => {
    await unregisterNativeKernels();
    const tensorsBefore = tf.memory().numTensors;
    const wasm = losses(5);
    await registerNativeKernels({ threads: 2 });
    const calls = nativeBatchMatMulCalls();
    const native = losses(5);
    expect(nativeBatchMatMulCalls() - calls).toBeGreaterThan(50);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(native[4]!).toBeLessThan(native[0]!); // it trains
    for (let i = 0; i < 5; i++)
      expect(Math.abs(native[i]! - wasm[i]!), `step ${i}`).toBeLessThan(
        1e-4 * (1 + Math.abs(wasm[i]!)),
      );
  },
);
