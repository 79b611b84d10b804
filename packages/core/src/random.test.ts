import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';

describe('SeededRandom', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it('restores state exactly, including a cached normal sample', () => {
    const rng = new SeededRandom(7);
    rng.normal(); // leaves a spare normal cached
    const state = rng.getState();
    const expected = [rng.normal(), rng.next(), rng.int(1000), rng.normal()];
    const restored = SeededRandom.fromState(JSON.parse(JSON.stringify(state)));
    expect([restored.normal(), restored.next(), restored.int(1000), restored.normal()]).toEqual(expected);
  });

  it('draws uniform and normal samples with the right moments', () => {
    const rng = new SeededRandom(1);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let uniformSum = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal(2, 3);
      sum += x;
      sumSq += x * x;
      uniformSum += rng.next();
    }
    const mean = sum / n;
    const std = Math.sqrt(sumSq / n - mean * mean);
    // Standard errors: 3/sqrt(n)≈0.0067 for the mean; bounds are ~5 standard errors.
    expect(Math.abs(mean - 2)).toBeLessThan(0.035);
    expect(Math.abs(std - 3)).toBeLessThan(0.03);
    expect(Math.abs(uniformSum / n - 0.5)).toBeLessThan(0.004);
  });

  it('shuffles into a permutation and rejects bad int() bounds', () => {
    const rng = new SeededRandom(3);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(() => rng.int(0)).toThrow(/positive integer/);
  });
});
