import { initBackend, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expertLoad, sequenceBalanceLoss, updateGateBias } from './balance.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('sequence-wise balance loss (spec §11)', () => {
  const scores = [
    [0.9, 0.1, 0.5, 0.5],
    [0.2, 0.8, 0.6, 0.4],
  ];
  const indices = [
    [0, 2],
    [1, 2],
  ];

  it('equals α Σ f_i P_i computed by hand, with the hand-derived gradient', () => {
    // counts [1,1,2,0], f = E/(K·T)·counts = counts; s' rows [.45,.05,.25,.25] and [.1,.4,.3,.2];
    // P = [.275,.225,.275,.225]; Σ f·P = 1.05; α = 0.1 → 0.105.
    const s = tf.tensor2d(scores);
    const idx = tf.tensor2d(indices, undefined, 'int32');
    const loss = sequenceBalanceLoss({
      scores: s,
      indices: idx,
      batchSize: 1,
      seqLen: 2,
      alpha: 0.1,
    });
    expect(loss.dataSync()[0]).toBeCloseTo(0.105, 6);
    // dL/ds_{t,j} = α/T · (f_j − Σ_i f_i s'_{t,i}) / Σ_i s_{t,i}
    const grad = tf.grad((x: tf.Tensor) =>
      sequenceBalanceLoss({ scores: x, indices: idx, batchSize: 1, seqLen: 2, alpha: 0.1 }),
    )(s);
    const expected = [0, 0, 0.025, -0.025, -0.0025, -0.0025, 0.0225, -0.0275];
    [...grad.dataSync()].forEach((g, i) => {
      expect(g).toBeCloseTo(expected[i]!, 6);
    });
  });

  it('averages over sequences and gives α at perfect balance', () => {
    // Second sequence perfectly balanced with uniform scores: Σ f·P = 1 → α.
    const s = tf.tensor2d([...scores, [0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]);
    const idx = tf.tensor2d([...indices, [0, 1], [2, 3]], undefined, 'int32');
    const loss = sequenceBalanceLoss({
      scores: s,
      indices: idx,
      batchSize: 2,
      seqLen: 2,
      alpha: 0.1,
    });
    expect(loss.dataSync()[0]).toBeCloseTo((0.105 + 0.1) / 2, 6);
  });
});

describe('aux-loss-free bias update (spec §10)', () => {
  it('moves overloaded experts down and underloaded up by γ, equal-to-mean unchanged', () => {
    const idx = tf.tensor2d(
      [
        [0, 1],
        [0, 2],
        [0, 3],
        [2, 3],
      ],
      undefined,
      'int32',
    );
    const load = expertLoad(idx, 4);
    expect([...load]).toEqual([3, 1, 2, 2]);
    const bias = tf.variable(tf.tensor1d([0.5, 0, -0.25, 0]), false);
    updateGateBias({ bias, load, gamma: 0.01 });
    [...bias.dataSync()].forEach((b, i) => {
      expect(b).toBeCloseTo([0.49, 0.01, -0.25, 0][i]!, 7);
    });
  });
});
