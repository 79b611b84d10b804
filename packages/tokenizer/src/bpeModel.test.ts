import { describe, expect, it } from 'vitest';
import { BpeModel } from './bpeModel.js';
import { PairTable } from './pairTable.js';
import { seededInts } from './testing/corpus.js';

/** Reference BPE, written for clarity: repeatedly merge the lowest-rank adjacent pair (leftmost on ties). */
function naiveBpe(bytes: number[], merges: Map<string, [number, number]>): number[] {
  const ids = [...bytes];
  for (;;) {
    let best = -1;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 1 < ids.length; i++) {
      const m = merges.get(`${ids[i]},${ids[i + 1]}`);
      if (m && m[0] < bestRank) {
        bestRank = m[0];
        best = i;
      }
    }
    if (best < 0) return ids;
    ids.splice(best, 2, merges.get(`${ids[best]},${ids[best + 1]}`)![1]);
  }
}

describe('BpeModel', () => {
  it('matches a naive BPE on short and long random inputs (scan and heap paths)', () => {
    const next = seededInts(9);
    const merges = new Map<string, [number, number]>();
    const pairs = new PairTable(400);
    // 300 random merges over a 4-letter byte alphabet and the ids they create.
    for (let r = 0; r < 300; r++) {
      const a = 97 + (next() % 4) + (r > 20 ? 0 : 0);
      const pool = [97, 98, 99, 100, ...Array.from({ length: r }, (_, k) => 256 + k)];
      const left = r < 4 ? a : pool[next() % pool.length]!;
      const right = pool[next() % pool.length]!;
      if (merges.has(`${left},${right}`)) continue;
      merges.set(`${left},${right}`, [r, 256 + r]);
      pairs.set(left, right, r, 256 + r);
    }
    const byteIds = Int32Array.from({ length: 256 }, (_, b) => b);
    const model = new BpeModel({ byteIds, pairs });
    for (const length of [1, 2, 5, 40, 255, 256, 257, 600, 3000]) {
      const bytes = Array.from({ length }, () => 97 + (next() % 4));
      const out: number[] = [];
      model.mergeBytes(Uint8Array.from(bytes), bytes.length, out, 0x7fffffff);
      expect(out, `length ${length}`).toEqual(naiveBpe(bytes, merges));
    }
  });
});
