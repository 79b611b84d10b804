import { initBackend, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from './config.js';
import type { Linear } from './linear.js';
import { DeepseekModel } from './model.js';
import { maxAbsDiff } from './testing/golden.js';

const config = presetConfig('tiny', { vocabSize: 48, dim: 32, interDim: 48, moeInterDim: 16, nHeads: 2, qLoraRank: 8, kvLoraRank: 16 });

/** A frozen Linear holding its weight as a plain tensor, as a quantized implementation would. */
class FrozenLinear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(
    readonly name: string,
    private readonly w: tf.Tensor2D,
  ) {
    [this.outFeatures, this.inFeatures] = w.shape;
  }
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = tf.matMul(tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D, this.w, false, true);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
  weightMatrix(): tf.Tensor2D {
    return tf.clone(this.w);
  }
  trainableVariables(): tf.Variable[] {
    return [];
  }
  dispose(): void {
    this.w.dispose();
  }
}

function logitsOf(model: DeepseekModel, tokens: tf.Tensor2D, attention: 'absorb' | 'naive' = 'absorb'): Float32Array {
  const out = model.forward(tokens, { attention });
  const data = out.logits.dataSync() as Float32Array;
  out.logits.dispose();
  return data;
}

describe('DeepseekModel API', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('creates deterministically from a seed', () => {
    const a = DeepseekModel.create(config, { seed: 5 });
    const b = DeepseekModel.create(config, { seed: 5 });
    const c = DeepseekModel.create(config, { seed: 6 });
    const name = 'model.layers.1.mlp.experts.3.up_proj.weight';
    expect(a.hostTensors().get(name)!.data).toEqual(b.hostTensors().get(name)!.data);
    expect(a.hostTensors().get(name)!.data).not.toEqual(c.hostTensors().get(name)!.data);
    for (const m of [a, b, c]) m.dispose();
  });

  it('exposes trainable weights by HF name and gate biases separately (non-trainable)', () => {
    const model = DeepseekModel.create(config, { seed: 1 });
    const weights = model.namedWeights();
    const biases = model.correctionBiases();
    expect(weights.get('model.embed_tokens.weight')!.shape).toEqual([48, 32]);
    expect(weights.get('model.layers.0.self_attn.q_a_layernorm.weight')!.shape).toEqual([8]);
    expect(weights.get('model.layers.2.eh_proj.weight')!.shape).toEqual([32, 64]);
    expect([...weights.values()].every((v) => v.trainable)).toBe(true);
    expect([...biases.keys()]).toEqual(['model.layers.1.mlp.gate.e_score_correction_bias', 'model.layers.2.mlp.gate.e_score_correction_bias']);
    expect([...biases.values()].every((v) => !v.trainable)).toBe(true);
    expect(weights.size + biases.size).toBe(model.hostTensors().size);
    model.dispose();
  });

  it('uses the correction bias for selection only: raising one expert bias routes every token to it', () => {
    const model = DeepseekModel.create(config, { seed: 2, initStd: 0.05 });
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const bias = model.correctionBiases().get('model.layers.1.mlp.gate.e_score_correction_bias')!;
    bias.assign(tf.tensor1d([0, 0, 0, 0, 0, 5, 0, 0]));
    const out = model.forward(tokens, { collectRouting: true });
    const r = out.routing![0]!;
    const idx = r.indices.dataSync();
    for (let t = 0; t < 6; t++) expect(idx[t * 2]).toBe(5);
    expect(r.expertCounts[5]).toBe(6);
    // weights come from the unbiased sigmoid scores, renormalised: rows sum to route_scale
    const sums = tf.sum(r.weights, -1).dataSync();
    expect(maxAbsDiff(sums, new Float32Array(6).fill(config.routeScale))).toBeLessThan(1e-6);
    tf.dispose([tokens, out.logits, ...out.routing!.flatMap((x) => [x.scores, x.indices, x.weights])]);
    model.dispose();
  });

  it('replaceLinear swaps an implementation (absorbed kv_b_proj uses weightMatrix)', () => {
    const model = DeepseekModel.create(config, { seed: 3, initStd: 0.1 });
    const tokens = tf.tensor2d([[3, 1, 4, 1, 5, 9, 2, 6]], [1, 8], 'int32');
    const before = logitsOf(model, tokens);
    for (const name of ['model.layers.0.self_attn.kv_b_proj.weight', 'model.layers.1.mlp.experts.0.down_proj.weight', 'lm_head.weight']) {
      const w = tf.clone(model.linears().get(name)!.weightMatrix());
      model.replaceLinear(name, new FrozenLinear(name, w));
      expect(model.namedWeights().has(name)).toBe(false);
    }
    expect(maxAbsDiff(logitsOf(model, tokens), before)).toBeLessThan(1e-6);
    expect(maxAbsDiff(logitsOf(model, tokens, 'naive'), before)).toBeLessThan(1e-5);
    const name = 'model.layers.0.self_attn.kv_b_proj.weight';
    model.replaceLinear(name, new FrozenLinear(name, tf.zeros([2 * 32, 16]) as tf.Tensor2D));
    expect(maxAbsDiff(logitsOf(model, tokens), before)).toBeGreaterThan(1e-3);
    expect(() => model.replaceLinear(name, new FrozenLinear(name, tf.zeros([3, 16]) as tf.Tensor2D))).toThrow(/is \[3, 16\] but the layer is \[64, 16\]/);
    expect(() => model.replaceLinear('nope.weight', new FrozenLinear('nope.weight', tf.zeros([1, 1]) as tf.Tensor2D))).toThrow(/no linear named 'nope.weight'/);
    tokens.dispose();
    model.dispose();
  });

  it('trains with optimizer.minimize (loss falls, MTP included, no tensor leaks)', () => {
    const model = DeepseekModel.create(config, { seed: 4, initStd: 0.02 });
    const tokens = tf.tensor2d([[5, 6, 7, 8, 9, 10, 11, 12], [20, 21, 22, 23, 24, 25, 26, 27]], [2, 8], 'int32');
    const targets = tf.oneHot(tf.tensor2d([[6, 7, 8, 9, 10, 11, 12, 13], [21, 22, 23, 24, 25, 26, 27, 28]], [2, 8], 'int32'), 48);
    const mtpTargets = tf.slice(targets, [0, 1, 0], [2, 7, 48]);
    const optimizer = tf.train.adam(3e-2);
    const losses: number[] = [];
    const step = () => {
      const loss = optimizer.minimize(() => {
        const out = model.forward(tokens, { training: true, collectRouting: true });
        const main = tf.losses.softmaxCrossEntropy(targets, out.logits);
        const mtp = tf.losses.softmaxCrossEntropy(mtpTargets, out.mtpLogits![0]!);
        return tf.add(main, tf.mul(mtp, 0.3)) as tf.Scalar;
      }, true, [...model.namedWeights().values()]);
      losses.push(loss!.dataSync()[0]!);
      loss!.dispose();
    };
    step();
    const count = tf.memory().numTensors;
    for (let i = 0; i < 7; i++) step();
    expect(tf.memory().numTensors).toBe(count);
    expect(losses[7]!).toBeLessThan(losses[0]! * 0.7);
    optimizer.dispose();
    tf.dispose([tokens, targets, mtpTargets]);
    model.dispose();
  });
});
