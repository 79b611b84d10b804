import { describe, expect, it } from 'vitest';
import { advantage, timeMedian } from './benchSuite.js';
import { formatTable } from './formatTable.js';

describe('bench harness', () => {
  it('computes advantage for throughput and for times', () => {
    expect(advantage({ name: 'a', unit: 'MB/s', ours: 50, peer: 10, higherIsBetter: true })).toBe(5);
    expect(advantage({ name: 'b', unit: 's', ours: 2, peer: 8, higherIsBetter: false })).toBe(4);
    expect(advantage({ name: 'c', unit: 's', ours: 2, higherIsBetter: false })).toBeUndefined();
  });

  it('marks rows that miss their target', () => {
    const table = formatTable('demo', [
      { name: 'fast', unit: 'MB/s', ours: 60, peer: 10, peerName: 'tiktoken', higherIsBetter: true, target: 5 },
      { name: 'slow', unit: 'MB/s', ours: 20, peer: 10, higherIsBetter: true, target: 5 },
    ]);
    expect(table).toMatch(/fast .*6\.00× .*≥5× ok/);
    expect(table).toMatch(/slow .*2\.00× .*≥5× MISS/);
  });

  it('returns the median timing', async () => {
    let calls = 0;
    const delays = [0, 30, 1, 60];
    const median = await timeMedian(() => new Promise((r) => setTimeout(r, delays[calls++]!)), { runs: 3, warmup: 1 });
    expect(median).toBeGreaterThanOrEqual(25);
    expect(median).toBeLessThan(55);
  });
});
