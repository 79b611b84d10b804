/** One measured quantity: ours against a peer measured in the same run. */
export interface BenchRow {
  /** What was measured, e.g. 'encode cl100k (SOTU)'. */
  name: string;
  unit: string;
  ours: number;
  /** The peer's value for the same work, when one was measured. */
  peer?: number;
  peerName?: string;
  /** true for throughput (MB/s, tokens/s), false for times and sizes. */
  higherIsBetter: boolean;
  /** Target ratio (ours/peer for higherIsBetter, peer/ours otherwise) the issue asks for. */
  target?: number;
  note?: string;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(context: { quick: boolean; log: (line: string) => void }): Promise<BenchRow[]>;
}

/** Declares a suite; each file in src/suites/*.bench.ts default-exports one. */
export function defineBenchSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

/** How many times better ours is than the peer (>1 means ours wins). */
export function advantage(row: BenchRow): number | undefined {
  if (row.peer === undefined || row.peer === 0 || row.ours === 0) return undefined;
  return row.higherIsBetter ? row.ours / row.peer : row.peer / row.ours;
}

/** Median of repeated timings in ms, after warm-up runs. */
export async function timeMedian(fn: () => unknown | Promise<unknown>, options: { runs?: number; warmup?: number } = {}): Promise<number> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < (options.runs ?? 3); i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
