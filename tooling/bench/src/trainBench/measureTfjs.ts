import { tf } from '@deepline/core';
import { FusedAdamOptimizer } from '@deepline/kernels-wasm';
import { BenchModel } from './benchModel.js';
import type { TrainBenchConfig } from './benchConfig.js';

/** Result of a timed training run. */
export interface TrainRun {
  tokensPerSecond: number;
  msPerStep: number;
  /**
   * Tokens per second of process CPU time (user + system, all threads): far less sensitive
   * than wall time to other load on a shared machine.
   */
  tokensPerCpuSecond: number;
  /** Loss after the last timed step (a sanity check that training ran). */
  finalLoss: number;
  firstLoss: number;
}

/** Fixed random token batches [batch, seq+1] from a seed (same recipe as the torch script). */
export function tokenBatch(cfg: TrainBenchConfig, step: number): tf.Tensor2D {
  const count = cfg.batch * (cfg.seq + 1);
  const data = new Int32Array(count);
  let state = (step * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state % cfg.vocab;
  }
  return tf.tensor2d(data, [cfg.batch, cfg.seq + 1], 'int32');
}

/** Adam: deepline's fused optimizer when the kernels are in use, tf.train.adam otherwise. */
export function benchOptimizer(cfg: TrainBenchConfig, fused: boolean): tf.Optimizer {
  return fused ? new FusedAdamOptimizer({ learningRate: cfg.learningRate }) : tf.train.adam(cfg.learningRate);
}

/** Trains the bench model with Adam on the active backend; times `steps` after `warmup`. */
export function trainTfjs(cfg: TrainBenchConfig, options: { steps: number; warmup: number; fusedAdam: boolean }): TrainRun {
  const model = new BenchModel(cfg);
  const optimizer = benchOptimizer(cfg, options.fusedAdam);
  const vars = [...model.params.values()];
  const step = (i: number): number => {
    const tokens = tokenBatch(cfg, i);
    const loss = optimizer.minimize(() => model.loss(tokens), true, vars)!;
    const value = loss.dataSync()[0]!;
    tf.dispose([loss, tokens]);
    return value;
  };
  try {
    let firstLoss = Number.NaN;
    for (let i = 0; i < options.warmup; i++) firstLoss = step(i);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let finalLoss = Number.NaN;
    for (let i = 0; i < options.steps; i++) finalLoss = step(options.warmup + i);
    const ms = (performance.now() - start) / options.steps;
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000 / options.steps;
    const tokens = cfg.batch * cfg.seq * 1000;
    return { tokensPerSecond: tokens / ms, tokensPerCpuSecond: tokens / cpuMs, msPerStep: ms, finalLoss, firstLoss };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
