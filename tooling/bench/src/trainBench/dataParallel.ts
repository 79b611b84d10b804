import { Worker } from 'node:worker_threads';
import type { TrainBenchConfig } from './benchConfig.js';
import type { TrainRun } from './measureTfjs.js';

interface RankResult {
  rank: number;
  msPerStep: number;
  cpuMsPerStep: number;
  finalLoss: number;
  checksum: number;
  error?: string;
}

/**
 * Data-parallel training on `world` worker threads (one tfjs-wasm each, so one core each):
 * every rank runs batch/world sequences, gradients are averaged through a SharedArrayBuffer
 * and every rank applies the same Adam update.
 */
export async function trainDataParallel(
  cfg: TrainBenchConfig,
  options: { world: number; steps: number; warmup: number; kernels: boolean },
): Promise<TrainRun & { replicasInSync: boolean; slowestRankCpuMsPerStep: number }> {
  const { world } = options;
  if (cfg.batch % world !== 0) throw new Error(`batch ${cfg.batch} does not split over ${world} workers`);
  const parameters = 800_000; // upper bound of the bench model's 763,008 weights
  const grads = new SharedArrayBuffer(2 * world * parameters * 4);
  const sync = new SharedArrayBuffer(8);
  const script = new URL('./dataParallelWorker.ts', import.meta.url).href;
  // Workers cannot start from a .ts file directly: a tiny eval'd bootstrap registers tsx
  // (the bench's TypeScript loader) in the worker, then imports the rank's module.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(script)}); });`;
  const results = await Promise.all(
    Array.from(
      { length: world },
      (_, rank) =>
        new Promise<RankResult>((resolve, reject) => {
          const worker = new Worker(bootstrap, {
            eval: true,
            execArgv: ['--conditions=source'],
            workerData: { cfg, rank, world, steps: options.steps, warmup: options.warmup, kernels: options.kernels, grads, sync },
          });
          worker.once('message', (message: RankResult) => {
            void worker.terminate();
            if (message.error) reject(new Error(`rank ${rank}: ${message.error}`));
            else resolve(message);
          });
          worker.once('error', reject);
        }),
    ),
  );
  const ms = Math.max(...results.map((r) => r.msPerStep));
  const checksums = results.map((r) => r.checksum);
  return {
    tokensPerSecond: (cfg.batch * cfg.seq * 1000) / ms,
    msPerStep: ms,
    // Whole-batch tokens per CPU-second summed over ranks (the all-reduce and the smaller
    // per-rank batches show up here as lost efficiency against the single-process run).
    tokensPerCpuSecond: (cfg.batch * cfg.seq * 1000) / results.reduce((a, r) => a + r.cpuMsPerStep, 0),
    slowestRankCpuMsPerStep: Math.max(...results.map((r) => r.cpuMsPerStep)),
    finalLoss: results.reduce((a, r) => a + r.finalLoss, 0) / world,
    firstLoss: Number.NaN,
    replicasInSync: checksums.every((c) => c === checksums[0]),
  };
}
