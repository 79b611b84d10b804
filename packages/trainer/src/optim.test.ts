import { initBackend, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { clipGradients, globalNorm } from './clipping.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('AdamW', () => {
  it('matches hand-computed decoupled-decay updates; norms and biases are not decayed', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const norm = tf.variable(tf.tensor1d([1, 1]));
    const opt = new AdamW({
      params: new Map<string, tf.Variable>([
        ['layers.0.w', w],
        ['layers.0.input_layernorm.weight', norm],
      ]),
      beta1: 0.9,
      beta2: 0.95,
      epsilon: 1e-8,
      weightDecay: 0.1,
    });
    expect(opt.isDecayed('layers.0.w')).toBe(true);
    expect(opt.isDecayed('layers.0.input_layernorm.weight')).toBe(false);
    const step = (gw: number[], gn: number[]) => {
      const grads = new Map<string, tf.Tensor>([
        ['layers.0.w', tf.tensor2d([gw])],
        ['layers.0.input_layernorm.weight', tf.tensor1d(gn)],
      ]);
      opt.apply(grads, 0.1);
      tf.dispose([...grads.values()]);
    };
    step([0.5, -1], [0.5, 0.5]);
    // Step 1: m̂ = g, v̂ = g², so the update is sign(g); p·(1 − lr·wd) − lr·sign(g).
    expectClose(w.dataSync(), [0.89, -1.88], 1e-6);
    expectClose(norm.dataSync(), [0.9, 0.9], 1e-6);
    step([0.1, 0.2], [0, 0]);
    // Step 2 by hand: m = [.055, −.07], v = [.012375, .0495], c1 = .19, c2 = .0975.
    expectClose(w.dataSync(), [0.7998471188, -1.8094936201], 1e-6);
    expect(opt.step).toBe(2);
  });

  it('state round-trips exactly and rejects a mismatched state', () => {
    const w = tf.variable(
      tf.tensor2d([
        [0.3, 0.7],
        [0.1, -0.2],
      ]),
    );
    const opt = new AdamW({ params: new Map([['w', w]]) });
    const g = new Map<string, tf.Tensor>([
      [
        'w',
        tf.tensor2d([
          [0.1, -0.3],
          [0.2, 0.05],
        ]),
      ],
    ]);
    opt.apply(g, 0.01);
    const state = opt.getState();
    const w2 = tf.variable(
      tf.tensor2d([
        [0.3, 0.7],
        [0.1, -0.2],
      ]),
    );
    const other = new AdamW({ params: new Map([['w', w2]]) });
    other.setState(state);
    w2.assign(w);
    opt.apply(g, 0.01);
    other.apply(g, 0.01);
    expect([...w2.dataSync()]).toEqual([...w.dataSync()]);
    expect(() =>
      other.setState({ step: 1, m: new Map([['w', new Float32Array(3)]]), v: state.v }),
    ).toThrow(/m\.w.*size 3/);
    expect(() => new AdamW({ params: new Map([['w', w]]), beta2: 1.5 })).toThrow(
      /optimizer\.beta2/,
    );
  });
});

describe('global-norm clipping', () => {
  it('scales every gradient by maxNorm/norm above the threshold and leaves them alone below it', () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 4])],
      ['b', tf.tensor2d([[12]])],
    ]);
    expect(globalNorm(grads.values())).toBeCloseTo(13, 5);
    const clipped = clipGradients({ grads, maxNorm: 6.5 });
    expect(clipped.norm).toBeCloseTo(13, 5);
    expectClose(clipped.grads.get('a')!.dataSync(), [1.5, 2], 1e-5);
    expectClose(clipped.grads.get('b')!.dataSync(), [6], 1e-5);
    const kept = clipGradients({ grads, maxNorm: 20 });
    expect(kept.scale).toBe(1);
    expectClose(kept.grads.get('a')!.dataSync(), [3, 4], 0);
    const nan = clipGradients({
      grads: new Map([['x', tf.tensor1d([1, Number.NaN])]]),
      maxNorm: 1,
    });
    expect(Number.isNaN(nan.norm)).toBe(true);
  });
});

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(tol);
  });
}
