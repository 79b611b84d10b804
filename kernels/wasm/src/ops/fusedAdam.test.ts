import { tf } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareBackends, toleranceRatio } from '../conformance/compareBackends.js';
import { KernelsError } from '../errors.js';
import { FusedAdamOptimizer } from './fusedAdam.js';

// Oracle: tf.train.adam on the cpu backend, same problem, same steps.

async function train(backend: 'cpu' | 'wasm', make: () => tf.Optimizer): Promise<Float32Array> {
  await tf.setBackend(backend);
  const w = tf.variable(tf.tensor(seededFloats(37, 1), [37]), true, `w-${backend}`);
  const target = tf.tensor(seededFloats(37, 2), [37]);
  const optimizer = make();
  for (let step = 0; step < 6; step++) {
    tf.dispose(optimizer.minimize(() => tf.sum(tf.mul(tf.square(tf.sub(w, target)), tf.range(1, 38))) as tf.Scalar, true) ?? []);
  }
  const out = new Float32Array(await w.data());
  tf.dispose([w, target]);
  optimizer.dispose();
  return out;
}

beforeAll(prepareBackends);

describe('FusedAdamOptimizer', () => {
  it('matches tf.train.adam (fused kernel on wasm, composed ops on cpu)', async () => {
    const reference = await train('cpu', () => tf.train.adam(0.05, 0.9, 0.99, 1e-7));
    const fused = await train('wasm', () => new FusedAdamOptimizer({ learningRate: 0.05, beta2: 0.99, epsilon: 1e-7 }));
    const composed = await train('cpu', () => new FusedAdamOptimizer({ learningRate: 0.05, beta2: 0.99, epsilon: 1e-7 }));
    expect(toleranceRatio(fused, reference, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    expect(toleranceRatio(composed, reference, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  });

  it('round-trips its state through getWeights/setWeights', async () => {
    await tf.setBackend('wasm');
    const w = tf.variable(tf.tensor1d([1, -2, 3]), true, 'adam-state-w');
    const loss = () => tf.sum(tf.mul(tf.square(w), tf.tensor1d([1, 2, 3]))) as tf.Scalar;
    const first = new FusedAdamOptimizer({ learningRate: 0.1 });
    first.minimize(loss);
    const snapshot = w.clone();
    const state = (await first.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    first.minimize(loss);
    const continued = Array.from(await w.data());
    w.assign(snapshot);
    const second = new FusedAdamOptimizer({ learningRate: 0.1 });
    await second.setWeights(state);
    second.minimize(loss);
    expect(Array.from(await w.data())).toEqual(continued);
    // A fresh optimizer (no state) takes a different step: the state mattered.
    w.assign(snapshot);
    const fresh = new FusedAdamOptimizer({ learningRate: 0.1 });
    fresh.minimize(loss);
    expect(Array.from(await w.data())).not.toEqual(continued);
    tf.dispose([w, snapshot, ...state.map((s) => s.tensor)]);
    for (const o of [first, second, fresh]) o.dispose();
  });

  it('rejects out-of-range hyper-parameters with the field named', () => {
    try {
      new FusedAdamOptimizer({ learningRate: 0.1, beta1: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(KernelsError);
      expect((error as KernelsError).context.field).toBe('beta1');
    }
  });
});
