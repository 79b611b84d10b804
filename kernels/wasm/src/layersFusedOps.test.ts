import { tf } from '@deepline/core';
import { DeepseekModel, presetConfig } from '@deepline/layers';
import { seededFloats } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBackends } from './conformance/compareBackends.js';
import { KERNEL } from './kernels/fusedKernels.js';
import { registerWasmKernels, unregisterWasmKernels } from './registerWasmKernels.js';

// A small @deepline/layers DeepSeek model with every path the fused ops touch: query LoRA
// (q_a_layernorm), dense SwiGLU and MoE experts, and MLA with q/k head dim 12 ≠ v head dim 8
// (the fused attention pads v). The model finds the ops through core's fused-op registry.
const config = presetConfig('tiny', {
  vocabSize: 40,
  dim: 32,
  interDim: 48,
  moeInterDim: 16,
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
const B = 2;
const S = 7;

interface Run {
  logits: Float32Array;
  grads: Map<string, Float32Array>;
  kernels: Set<string>;
}

/**
 * The model with weights large enough that attention is far from uniform and the norms and
 * gates matter (init-scale weights would hide a wrong softmax scale under 1e-4).
 */
function createModel(seed: number): DeepseekModel {
  const model = DeepseekModel.create(config, { seed, attention: 'naive' });
  let i = 0;
  for (const [name, v] of model.namedWeights()) {
    const noise = seededFloats(v.size, seed * 1000 + i++, 0.5);
    const data = name.endsWith('norm.weight') ? noise.map((x) => 1 + x / 2) : noise;
    tf.tidy(() => (v as tf.Variable).assign(tf.tensor(data, v.shape)));
  }
  return model;
}

/** Logits of the naive (training) attention path and the gradients of a fixed projection of them. */
async function runModel(): Promise<Run> {
  const model = createModel(3);
  const tokens = tf.tensor2d(
    Array.from({ length: B * S }, (_, i) => (i * 7 + 3) % config.vocabSize),
    [B, S],
    'int32',
  );
  const r = tf.tensor(seededFloats(B * S * config.vocabSize, 11), [B, S, config.vocabSize]);
  const weights = [...model.namedWeights()];
  const kernels = new Set<string>();
  let logits: Float32Array = new Float32Array(0);
  const grads = new Map<string, Float32Array>();
  const profile = await tf.profile(() => {
    const { value, grads: g } = tf.variableGrads(() => {
      const out = model.forward(tokens, { training: true }).logits;
      logits = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, r)) as tf.Scalar;
    }, weights.map(([, v]) => v as tf.Variable));
    for (const [name, v] of weights) grads.set(name, g[v.name]!.dataSync() as Float32Array);
    tf.dispose([value, ...Object.values(g)]);
  });
  for (const k of profile.kernelNames) kernels.add(k);
  tf.dispose([tokens, r]);
  model.dispose();
  return { logits, grads, kernels };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  await prepareBackends();
  await tf.setBackend('wasm');
});

afterAll(async () => {
  await registerWasmKernels();
});

describe('@deepline/layers model with the fused ops registered through core', () => {
  it('forward logits and all weight gradients equal the stock tfjs-wasm ones within 1e-4', async () => {
    await unregisterWasmKernels();
    const stock = await runModel();
    await registerWasmKernels();
    const fused = await runModel();
    // The fused kernels actually ran (and did not on the stock run).
    for (const name of [KERNEL.rmsNorm, KERNEL.rmsNormGrad, KERNEL.siluMul, KERNEL.siluMulGrad, KERNEL.attention, KERNEL.attentionGrad]) {
      expect(fused.kernels.has(name), name).toBe(true);
      expect(stock.kernels.has(name), name).toBe(false);
    }
    expect(maxAbsDiff(fused.logits, stock.logits)).toBeLessThan(1e-4);
    expect(fused.grads.size).toBe(stock.grads.size);
    let norm = 0;
    for (const [name, g] of stock.grads) {
      expect(maxAbsDiff(fused.grads.get(name)!, g), name).toBeLessThan(1e-4);
      norm += g.reduce((a, v) => a + v * v, 0);
    }
    expect(norm).toBeGreaterThan(1e-3); // gradients are non-trivial
  });

  it('a decode step over a KV cache (no mask, Tq < Tk) matches the stock path', async () => {
    const decode = async (): Promise<Float32Array> => {
      const model = createModel(5);
      const cache = model.createCache({ batchSize: 1 });
      const prompt = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
      const next = tf.tensor2d([[5]], [1, 1], 'int32');
      tf.dispose(model.forward(prompt, { cache, startPos: 0 }).logits);
      const out = model.forward(next, { cache, startPos: 4 }).logits;
      const data = out.dataSync() as Float32Array;
      tf.dispose([out, prompt, next]);
      cache.dispose();
      model.dispose();
      return data;
    };
    await unregisterWasmKernels();
    const stock = await decode();
    await registerWasmKernels();
    expect(maxAbsDiff(await decode(), stock)).toBeLessThan(1e-4);
  });
});
