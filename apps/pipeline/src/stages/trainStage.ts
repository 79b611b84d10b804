import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLoader } from '@deepline/data';
import { type DeepseekConfig, DeepseekModel, type PresetName, countParameters, presetConfig } from '@deepline/layers';
import { Trainer, deepseekTrainable, latestCheckpoint, loaderBatchSource } from '@deepline/trainer';
import type { PipelineConfig } from '../config.js';
import { PipelineError } from '../errors.js';
import type { Stage } from '../stage.js';
import { loadStageTokenizer } from './tokenizerStage.js';

export const MODEL_DIR = 'model';
const CHECKPOINT_DIR = 'checkpoints';

/** The model config: preset + overrides, with the vocab of the trained tokenizer. */
export function pipelineModelConfig(config: PipelineConfig, vocabSize: number): DeepseekConfig {
  try {
    return presetConfig(config.model.preset as PresetName, {
      ...(config.model.overrides as Partial<DeepseekConfig>),
      vocabSize,
      maxSeqLen: Math.max(config.train.seqLen, (config.model.overrides.maxSeqLen as number | undefined) ?? 0),
      originalSeqLen: Math.max(config.train.seqLen, (config.model.overrides.originalSeqLen as number | undefined) ?? 0),
    });
  } catch (cause) {
    throw new PipelineError(`model: ${(cause as Error).message}`, { code: 'PIPELINE_CONFIG', context: { field: 'model' }, cause });
  }
}

/** Builds the DeepSeek-style model and trains it on the shards; resumes from its last checkpoint. */
export const trainStage: Stage<PipelineConfig> = {
  name: 'train',
  description: 'build and train the DeepSeek-style model (MLA + MoE)',
  dependsOn: ['tokenizer', 'shard'],
  resumable: true,
  configSlice: (c) => ({ model: c.model, train: c.train, seed: c.seed }),
  params: (c) => ({ preset: c.model.preset, ...Object.fromEntries(Object.entries(c.train).map(([k, v]) => [`train_${k}`, v])) }),
  async run({ config, dir, inputs, tracker, logger }) {
    const tokenizer = await loadStageTokenizer(inputs.tokenizer!);
    const modelConfig = pipelineModelConfig(config, tokenizer.vocabSize);
    const counts = countParameters(modelConfig);
    // Training uses naive attention (fused on wasm); the absorbed path is for cached decoding.
    const model = DeepseekModel.create(modelConfig, { seed: config.seed, attention: 'naive' });
    const shards = join(inputs.shard!.dir, inputs.shard!.outputs.shards as string);
    const t = config.train;
    // Sequences of seqLen + 1 tokens: the model sees seqLen and predicts the next of each.
    const train = await createLoader({ dir: shards, split: 'train', sequenceLength: t.seqLen + 1, seed: config.seed, epochs: Number.POSITIVE_INFINITY });
    const validation = await createLoader({ dir: shards, split: 'validation', sequenceLength: t.seqLen + 1, shuffle: false, epochs: Number.POSITIVE_INFINITY });
    const trainer = new Trainer({
      model: deepseekTrainable(model),
      data: loaderBatchSource({ loader: train, batchSize: t.batchSize }),
      schedule: { kind: 'cosine', peakLr: t.peakLr, warmupSteps: t.warmupSteps, totalSteps: t.steps, minLr: t.minLr },
      maxSteps: t.steps,
      optimizer: { weightDecay: t.weightDecay },
      clipNorm: t.clipNorm,
      validation: { data: loaderBatchSource({ loader: validation, batchSize: t.batchSize }), every: t.evalEvery, maxBatches: t.evalBatches },
      checkpoint: { dir: join(dir, CHECKPOINT_DIR), every: t.checkpointEvery, keepLast: 2 },
      metricsFile: join(dir, 'metrics.jsonl'),
      tracker,
      seed: config.seed,
      logger,
    });
    const resumeFrom = await latestCheckpoint(join(dir, CHECKPOINT_DIR));
    if (resumeFrom) {
      logger.info(`resuming training from ${resumeFrom.path}`);
      await trainer.resume(resumeFrom.path);
    }
    const started = performance.now();
    const startTokens = trainer.state().tokensSeen;
    const summary = await trainer.fit();
    const seconds = (performance.now() - started) / 1000;
    await model.save(join(dir, MODEL_DIR));
    await copyFile(join(inputs.tokenizer!.dir, inputs.tokenizer!.outputs.tokenizer as string), join(dir, MODEL_DIR, 'tokenizer.json'));
    model.dispose();
    return {
      outputs: { model: MODEL_DIR, resumedFromStep: resumeFrom?.step ?? 0, stopReason: summary.reason },
      metrics: {
        params_total: counts.total,
        params_activated: counts.activatedPerToken,
        steps: summary.steps,
        final_loss: summary.lastLoss ?? Number.NaN,
        best_val_loss: summary.bestValLoss ?? Number.NaN,
        best_val_perplexity: summary.bestValLoss === null ? Number.NaN : Math.exp(summary.bestValLoss),
        skipped_steps: summary.skippedSteps,
        tokens_seen: summary.tokensSeen,
        tokens_per_second: seconds > 0 ? (summary.tokensSeen - startTokens) / seconds : 0,
      },
      artifacts: ['metrics.jsonl', MODEL_DIR],
    };
  },
};
