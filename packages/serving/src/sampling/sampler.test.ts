import { describe, expect, it } from 'vitest';
import { ServingError } from '../errors.js';
import { Sampler, argmax, resolveSamplingParams } from './sampler.js';

const logits = Float32Array.from([1, 3, 2, 0, -1]);

function sampler(partial: Parameters<typeof resolveSamplingParams>[0], promptTokens: number[] = []) {
  return new Sampler({ params: resolveSamplingParams(partial), promptTokens });
}

describe('Sampler', () => {
  it('greedy picks the argmax, lowest index on ties', () => {
    expect(sampler({ temperature: 0 }).sample(logits)).toBe(1);
    expect(argmax(Float32Array.from([2, 5, 5, 1]))).toBe(1);
  });

  it('temperature softmax matches a hand computation', () => {
    const s = sampler({ temperature: 0.5 });
    const dist = s.distribution(logits);
    const w = [1, 3, 2, 0, -1].map((x) => Math.exp(x / 0.5));
    const z = w.reduce((a, b) => a + b);
    expect(dist.map(([t]) => t)).toEqual([1, 2, 0, 3, 4]);
    for (const [t, p] of dist) expect(p).toBeCloseTo(w[t]! / z, 10);
  });

  it('top-k keeps the k largest and renormalises', () => {
    const dist = sampler({ topK: 2 }).distribution(logits);
    const z = Math.exp(3) + Math.exp(2);
    expect(dist).toHaveLength(2);
    expect(dist[0]![0]).toBe(1);
    expect(dist[0]![1]).toBeCloseTo(Math.exp(3) / z, 10);
    expect(dist[1]![1]).toBeCloseTo(Math.exp(2) / z, 10);
  });

  it('top-p keeps the smallest prefix reaching the mass', () => {
    // softmax([1,3,2,0,-1]) ≈ [.0858,.6337,.2331,.0316,.0116]: 0.6337 < 0.8 ≤ 0.8668 → two tokens.
    const dist = sampler({ topP: 0.8 }).distribution(logits);
    expect(dist.map(([t]) => t)).toEqual([1, 2]);
    expect(dist[0]![1]).toBeCloseTo(Math.exp(3) / (Math.exp(3) + Math.exp(2)), 10);
    expect(sampler({ topP: 0.5 }).distribution(logits).map(([t]) => t)).toEqual([1]);
  });

  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const s = sampler({ repetitionPenalty: 2 }, [1, 4]);
    expect(Array.from(s.applyPenalties(logits))).toEqual([1, 1.5, 2, 0, -2]);
    // greedy now prefers token 2 (2 > 1.5)
    expect(sampler({ temperature: 0, repetitionPenalty: 2 }, [1]).sample(logits)).toBe(2);
  });

  it('presence and frequency penalties count generated tokens only', () => {
    const s = sampler({ presencePenalty: 0.5, frequencyPenalty: 0.25 }, [0]);
    s.accept(1);
    s.accept(1);
    s.accept(3);
    const out = Array.from(s.applyPenalties(logits));
    expect(out[0]).toBe(1); // prompt token: untouched
    expect(out[1]).toBeCloseTo(3 - 0.5 - 0.5, 6);
    expect(out[3]).toBeCloseTo(0 - 0.5 - 0.25, 6);
  });

  it('a seed reproduces the same draws; empirical frequencies follow the distribution', () => {
    const draw = (seed: number) => {
      const s = sampler({ temperature: 1, seed });
      return Array.from({ length: 50 }, () => s.sample(logits));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const s = sampler({ temperature: 1, seed: 3 });
    const counts = new Array(5).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[s.sample(logits)]++;
    const z = [1, 3, 2, 0, -1].reduce((a, x) => a + Math.exp(x), 0);
    counts.forEach((c, t) => {
      expect(c / n).toBeCloseTo(Math.exp([1, 3, 2, 0, -1][t]!) / z, 1);
    });
  });

  it('rejects out-of-range parameters with a 400 naming the field', () => {
    for (const [partial, field] of [
      [{ temperature: -1 }, 'temperature'],
      [{ topP: 0 }, 'top_p'],
      [{ topK: 1.5 }, 'top_k'],
      [{ presencePenalty: 3 }, 'presence_penalty'],
      [{ repetitionPenalty: 0 }, 'repetition_penalty'],
      [{ seed: 0.5 }, 'seed'],
    ] as const) {
      try {
        resolveSamplingParams(partial);
        expect.fail(`accepted ${field}`);
      } catch (error) {
        expect(error).toBeInstanceOf(ServingError);
        expect((error as ServingError).context).toMatchObject({ status: 400, param: field });
      }
    }
  });
});
