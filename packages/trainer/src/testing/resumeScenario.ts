import { join } from 'node:path';
import { createLogger } from '@deepline/core';
import { Trainer, type TrainerOptions } from '../trainer.js';
import { cyclicSource } from './fixtures.js';
import { TinyMoeLm } from './tinyMoeLm.js';

/** A tiny MoE+MTP run with shuffling and accumulation, for resume tests. */
export function resumeTrainer(options: { modelSeed: number; checkpointDir: string }): {
  trainer: Trainer;
  model: TinyMoeLm;
} {
  const model = new TinyMoeLm(
    { vocabSize: 16, dim: 16, nExperts: 4, topK: 2, mtp: true },
    options.modelSeed,
  );
  const opts: TrainerOptions = {
    model,
    data: cyclicSource({ vocabSize: 16, seqLen: 9, count: 12, batchSize: 2, shuffleSeed: 5 }),
    schedule: { kind: 'cosine', peakLr: 0.03, warmupSteps: 2, totalSteps: 8, minLr: 0.003 },
    maxSteps: 8,
    gradAccumulation: 2,
    moe: { balanceAlpha: 0.01, biasGamma: 0.01 },
    checkpoint: { dir: options.checkpointDir, every: 3, keepLast: 5 },
    progress: false,
    seed: 42,
    logger: createLogger({ level: 'silent' }),
  };
  return { trainer: new Trainer(opts), model };
}

/**
 * Runs 6 steps uninterrupted (checkpointing at 3), then a fresh model with different
 * initial weights resumes from the step-3 checkpoint and runs to 6. Returns both
 * trajectories of steps 4–6 and both final weight sets.
 */
export async function resumeScenario(dir: string) {
  const a = resumeTrainer({ modelSeed: 1, checkpointDir: join(dir, 'a') });
  const full: number[] = [];
  let checkpoint = '';
  for (let s = 1; s <= 6; s++) {
    full.push((await a.trainer.trainStep())!.loss);
    if (s === 3) checkpoint = await a.trainer.saveCheckpoint();
  }
  const b = resumeTrainer({ modelSeed: 99, checkpointDir: join(dir, 'b') });
  await b.trainer.resume(checkpoint);
  const resumed: number[] = [];
  for (let s = 4; s <= 6; s++) resumed.push((await b.trainer.trainStep())!.loss);
  const weights = (m: TinyMoeLm) =>
    new Map([...m.namedWeights()].map(([n, v]) => [n, Array.from(v.dataSync())]));
  return {
    full: full.slice(3),
    resumed,
    fullWeights: weights(a.model),
    resumedWeights: weights(b.model),
    resumedStep: b.trainer.currentStep,
  };
}
