// One data-parallel rank: trains the bench model on its slice of each batch and averages
// gradients with the other ranks through shared memory (all ranks then apply the same Adam
// update, so the weights stay identical without broadcasting them).
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, tf } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import type { TrainBenchConfig } from './benchConfig.js';
import { BenchModel } from './benchModel.js';
import { benchOptimizer, tokenBatch } from './measureTfjs.js';
import { threadCpuMs } from './threadCpu.js';

interface WorkerInput {
  cfg: TrainBenchConfig;
  rank: number;
  world: number;
  steps: number;
  warmup: number;
  kernels: boolean;
  /** [2 parities][world ranks][parameters] float32 gradient slots. */
  grads: SharedArrayBuffer;
  /** Int32 [count, generation] of the barrier. */
  sync: SharedArrayBuffer;
}

const input = workerData as WorkerInput;
const flags = new Int32Array(input.sync);

/** Sense-free generation barrier: the last arrival bumps the generation and wakes the rest. */
function barrier(): void {
  const generation = Atomics.load(flags, 1);
  if (Atomics.add(flags, 0, 1) === input.world - 1) {
    Atomics.store(flags, 0, 0);
    Atomics.add(flags, 1, 1);
    Atomics.notify(flags, 1);
  } else {
    while (Atomics.load(flags, 1) === generation) Atomics.wait(flags, 1, generation);
  }
}

async function main(): Promise<void> {
  const { cfg, rank, world } = input;
  await initBackend({ backend: 'wasm' });
  if (input.kernels) await registerWasmKernels({ relaxedSimd: 'enable' });
  const local = { ...cfg, batch: cfg.batch / world };
  const model = new BenchModel(local);
  const optimizer = benchOptimizer(cfg, input.kernels);
  const names = [...model.params.keys()];
  const sizes = names.map((n) => model.params.get(n)!.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const slots = new Float32Array(input.grads);
  let loss = Number.NaN;
  let start = 0;
  let cpuStart = 0;
  for (let step = 0; step < input.warmup + input.steps; step++) {
    if (step === input.warmup) {
      barrier();
      start = performance.now();
      cpuStart = threadCpuMs();
    }
    const full = tokenBatch(cfg, step);
    const tokens = tf.slice(full, [rank * local.batch, 0], [local.batch, cfg.seq + 1]);
    const { value, grads } = tf.variableGrads(() => model.loss(tokens));
    const base = ((step % 2) * world + rank) * total;
    let offset = base;
    for (const name of names) {
      const data = grads[name]!.dataSync() as Float32Array;
      slots.set(data, offset);
      offset += data.length;
    }
    loss = value.dataSync()[0]!;
    tf.dispose([value, full, tokens, ...Object.values(grads)]);
    barrier(); // every rank's gradients for this step are in place
    const averaged: Record<string, tf.Tensor> = {};
    offset = 0;
    for (const [i, name] of names.entries()) {
      const mean = new Float32Array(sizes[i]!);
      for (let r = 0; r < world; r++) {
        const from = ((step % 2) * world + r) * total + offset;
        const slice = slots.subarray(from, from + sizes[i]!);
        for (let j = 0; j < mean.length; j++) mean[j]! += slice[j]! / world;
      }
      averaged[name] = tf.tensor(mean, model.params.get(name)!.shape);
      offset += sizes[i]!;
    }
    optimizer.applyGradients(Object.entries(averaged).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(averaged));
  }
  const ms = (performance.now() - start) / input.steps;
  const cpuMs = (threadCpuMs() - cpuStart) / input.steps;
  parentPort!.postMessage({ rank, msPerStep: ms, cpuMsPerStep: cpuMs, finalLoss: loss, checksum: await checksum(model) });
  optimizer.dispose();
  model.dispose();
}

/** Sum of all weights: equal on every rank when the replicas stayed in sync. */
async function checksum(model: BenchModel): Promise<number> {
  let sum = 0;
  for (const v of model.params.values()) sum += (await tf.sum(v).data())[0]!;
  return sum;
}

main().catch((error) => {
  parentPort!.postMessage({ rank: input.rank, error: String((error as Error)?.stack ?? error) });
});
