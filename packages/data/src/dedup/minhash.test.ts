import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { dedupWords } from './dedupText.js';
import { Deduplicator } from './deduplicator.js';
import { candidateProbability, createMinHasher, estimateJaccard } from './minhash.js';
import { buildMinHasher } from './minhashFamily.js';
import { simdMinima } from './minhashSimd.js';

const VOCAB = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}x${(i * 7919) % 97}`);

function randomDoc(rng: SeededRandom, words: number): string[] {
  return Array.from({ length: words }, () => VOCAB[rng.int(VOCAB.length)]!);
}

/** Replaces a random `rate` of positions with fresh random words. */
function mutate(rng: SeededRandom, words: string[], rate: number): string[] {
  return words.map((w) => (rng.next() < rate ? VOCAB[rng.int(VOCAB.length)]! : w));
}

/** Exact Jaccard of word 5-gram sets, computed with strings (independent of the hashing). */
function trueJaccard(a: string, b: string): number {
  const grams = (t: string) => {
    const w = dedupWords(t);
    const s = new Set<string>();
    for (let i = 0; i + 5 <= w.length; i++) s.add(w.slice(i, i + 5).join(' '));
    return s;
  };
  const sa = grams(a);
  const sb = grams(b);
  let inter = 0;
  for (const g of sa) if (sb.has(g)) inter++;
  return inter / (sa.size + sb.size - inter);
}

describe('MinHash-LSH', () => {
  it('estimates Jaccard without bias', () => {
    const rng = new SeededRandom(3);
    const hasher = createMinHasher({ bands: 32, rows: 8 });
    let sumErr = 0;
    let sumAbs = 0;
    const n = 60;
    for (let i = 0; i < n; i++) {
      const base = randomDoc(rng, 300);
      const a = base.join(' ');
      const b = mutate(rng, base, 0.01 + 0.08 * rng.next()).join(' ');
      const err = estimateJaccard(hasher.signature(a)!, hasher.signature(b)!) - trueJaccard(a, b);
      sumErr += err;
      sumAbs += Math.abs(err);
    }
    expect(Math.abs(sumErr / n)).toBeLessThan(0.02);
    expect(sumAbs / n).toBeLessThan(0.05);
  });

  it('finds planted near-duplicates (recall ≥ 0.95 at J ≥ 0.8) with few false positives (≤ 0.01 at J ≤ 0.5)', () => {
    const rng = new SeededRandom(11);
    const dedup = new Deduplicator({ exact: false });
    const pairs: Array<{ a: string; b: string; j: number }> = [];
    for (let i = 0; i < 400; i++) {
      const base = randomDoc(rng, 150 + rng.int(250));
      // Rates up to 2.1 % give J ≥ 0.8; rates of 9–17 % give J ≈ 0.25–0.45.
      const rate = i % 2 === 0 ? 0.001 + 0.02 * rng.next() : 0.09 + 0.08 * rng.next();
      pairs.push({ a: base.join(' '), b: mutate(rng, base, rate).join(' '), j: 0 });
    }
    for (const p of pairs) p.j = trueJaccard(p.a, p.b);
    const high = pairs.filter((p) => p.j >= 0.8);
    const low = pairs.filter((p) => p.j <= 0.5);
    expect(high.length).toBeGreaterThan(150);
    expect(low.length).toBeGreaterThan(150);
    let found = 0;
    let falsePositives = 0;
    for (const p of pairs) {
      expect(dedup.check({ id: 'a', text: p.a })).toBe(true);
      const kept = dedup.check({ id: 'b', text: p.b });
      if (p.j >= 0.8 && !kept) found++;
      if (p.j <= 0.5 && !kept) falsePositives++;
    }
    expect(found / high.length).toBeGreaterThanOrEqual(0.95);
    expect(falsePositives / low.length).toBeLessThanOrEqual(0.01);
  });

  it('validates options; the worker-side family equals the validated one', () => {
    expect(() => createMinHasher({ bands: 0 })).toThrow(/minhash.bands/);
    const text = 'the quick brown fox jumps over the lazy dog again and again';
    expect(buildMinHasher({ ngram: 5, bands: 14, rows: 8, seed: 1 }).signature(text)).toEqual(
      createMinHasher().signature(text),
    );
  });

  it('signatures (SIMD kernel and JS loop) equal the scalar definition min_x xorshift16((x ^ b_i) · a_i), whatever k', () => {
    // Literal port of the family: splitmix32 parameters, FNV over the 5 word hashes, murmur finaliser.
    const mix = (x: number) => {
      let h = x >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    const text = randomDoc(new SeededRandom(5), 90).join(' ');
    const words = dedupWords(text).map((w) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
      return mix(h);
    });
    for (const [bands, rows] of [
      [14, 8],
      [5, 3],
      [1, 1],
      [3, 4],
      [9, 2],
      [5, 4],
    ] as const) {
      let state = 7;
      const next = () => {
        state = (state + 0x9e3779b9) | 0;
        return mix(state) | 0;
      };
      const params = Array.from({ length: bands * rows }, () => [next() | 1, next()] as const);
      const shingles: number[] = [];
      for (let s = 0; s + 5 <= words.length; s++) {
        let h = 0x27d4eb2f;
        for (let j = 0; j < 5; j++) h = Math.imul(h ^ words[s + j]!, 0x01000193) + j;
        shingles.push(mix(h) | 0);
      }
      const expected = params.map(([a, b]) =>
        Math.min(
          ...shingles.map((x) => {
            const y = Math.imul(x ^ b, a);
            return y ^ (y >>> 16);
          }),
        ),
      );
      for (const simd of [true, false]) {
        const hasher = buildMinHasher({ ngram: 5, bands, rows, seed: 7, simd });
        expect(Array.from(hasher.signature(text)!)).toEqual(expected);
      }
    }
  });

  it('the SIMD kernel is available here and equals the JS loop on documents that grow its memory', () => {
    expect(simdMinima(new Int32Array(4), new Int32Array(4))).toBeDefined();
    const rng = new SeededRandom(11);
    const simd = buildMinHasher({ ngram: 5, bands: 14, rows: 8, seed: 3 });
    const js = buildMinHasher({ ngram: 5, bands: 14, rows: 8, seed: 3, simd: false });
    // 40 000 words: 160 KB of shingle hashes, past the kernel's initial 64 KB page; then small again.
    for (const words of [40_000, 7, 1, 300]) {
      const hashes = Uint32Array.from(
        { length: words },
        () => rng.int(0x7fffffff) * 2 + rng.int(2),
      );
      expect(Array.from(simd.signatureOfHashes(hashes)!)).toEqual(
        Array.from(js.signatureOfHashes(hashes)!),
      );
    }
  });

  it('matches the S-curve: 14 × 8 makes a J = 0.8 pair a candidate with p ≈ 0.924', () => {
    expect(candidateProbability({ similarity: 0.8, bands: 14, rows: 8 })).toBeCloseTo(0.924, 3);
  });

  it('keeps one document per exact-duplicate group and ignores case/punctuation', () => {
    const dedup = new Deduplicator({ minhash: false });
    expect(dedup.check({ id: '1', text: 'Hello, World! It is 2024.' })).toBe(true);
    expect(dedup.check({ id: '2', text: 'hello world  it is 1999' })).toBe(false);
    expect(dedup.check({ id: '3', text: 'hello there world' })).toBe(true);
  });
});
