import { type FusedCrossEntropyInputs, initBackend, registerFusedOp, tf, unregisterFusedOp } from '@deepline/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy } from './losses.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

afterEach(() => unregisterFusedOp('crossEntropy', 'cpu'));

// logits [B=1, L=2, V=3], targets [[2, 0]]: hand-computed mean(−log softmax[target]).
const logitsData = [1, 2, 3, 0.5, -1, 0];
const expected = (() => {
  const nll = (row: number[], t: number) => Math.log(row.reduce((a, x) => a + Math.exp(x), 0)) - row[t]!;
  return (nll([1, 2, 3], 2) + nll([0.5, -1, 0], 0)) / 2;
})();

describe('crossEntropy', () => {
  it('composed path equals the hand-computed mean token loss', () => {
    const loss = crossEntropy(tf.tensor3d(logitsData, [1, 2, 3]), tf.tensor2d([[2, 0]], [1, 2], 'int32'));
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it("uses a fused op registered in core for the active backend, with [B·L, V] logits and int32 [B·L] labels", () => {
    const seen: { logits: number[]; labels: number[]; dtype: string }[] = [];
    registerFusedOp('crossEntropy', 'cpu', ({ logits, labels }: FusedCrossEntropyInputs) => {
      seen.push({ logits: logits.shape, labels: Array.from(labels.dataSync()), dtype: labels.dtype });
      // Independent of losses.ts's own formula: logSumExp − picked logit, averaged.
      return tf.tidy(() => tf.mean(tf.sub(tf.logSumExp(logits, -1), tf.sum(tf.mul(logits, tf.oneHot(labels, logits.shape[1])), -1))) as tf.Scalar);
    });
    const loss = crossEntropy(tf.tensor3d(logitsData, [1, 2, 3]), tf.tensor2d([[2, 0]], [1, 2], 'float32'));
    expect(seen).toEqual([{ logits: [2, 3], labels: [2, 0], dtype: 'int32' }]);
    expect(loss.rank).toBe(0);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it('rejects logits and targets that do not match', () => {
    expect(() => crossEntropy(tf.zeros([1, 2, 3]), tf.zeros([1, 3], 'int32'))).toThrow(/do not match targets/);
  });
});
