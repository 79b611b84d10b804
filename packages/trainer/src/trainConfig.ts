import { isAbsolute, join, resolve } from 'node:path';
import {
  createLogger,
  type Logger,
  loadYamlConfig,
  type Tracker,
  validateConfig,
} from '@deepline/core';
import { createLoader } from '@deepline/data';
import { type DeepseekConfig, DeepseekModel, PRESET_NAMES, presetConfig } from '@deepline/layers';
import { z } from 'zod';
import { latestCheckpoint } from './checkpoint.js';
import { deepseekTrainable } from './deepseekTrainable.js';
import { TrainerError } from './errors.js';
import { loaderBatchSource } from './loaderSource.js';
import { type FitSummary, Trainer } from './trainer.js';

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

/** Schema of `train.yaml` (the `deepline train` config). Relative paths are relative to the file. */
export const trainConfigSchema = z
  .object({
    seed: z.number().int().nonnegative().default(0),
    model: z
      .object({
        /** Architecture preset, with `overrides` of DeepseekConfig fields (camelCase). */
        preset: z.enum(PRESET_NAMES as unknown as [string, ...string[]]).optional(),
        overrides: z.record(z.string(), z.unknown()).default({}),
        /** An HF model directory to start from instead of a fresh initialisation. */
        path: z.string().optional(),
        initStd: z.number().positive().default(0.006),
      })
      .strict()
      .refine((m) => (m.preset === undefined) !== (m.path === undefined), {
        message: 'set exactly one of model.preset or model.path',
      }),
    data: z
      .object({
        /** A @deepline/data shard directory (manifest.json + Arrow shards). */
        dir: z.string(),
        split: z.string().default('train'),
        /** Context length; the loader reads seqLen + 1 tokens per sequence. */
        seqLen: positiveInt,
        batchSize: positiveInt,
        shuffle: z.boolean().default(true),
      })
      .strict(),
    training: z
      .object({
        maxSteps: positiveInt,
        gradAccumulation: positiveInt.default(1),
        clipNorm: nonNegative.default(1),
        recompute: z.boolean().default(false),
        mtpLambda: nonNegative.default(0.3),
      })
      .strict(),
    optimizer: z
      .object({
        beta1: nonNegative.max(0.999999).optional(),
        beta2: nonNegative.max(0.999999).optional(),
        epsilon: nonNegative.optional(),
        weightDecay: nonNegative.optional(),
      })
      .strict()
      .default({}),
    schedule: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('cosine'),
          peakLr: nonNegative,
          warmupSteps: z.number().int().nonnegative(),
          totalSteps: positiveInt.optional(),
          minLr: nonNegative.default(0),
        })
        .strict(),
      z
        .object({
          kind: z.literal('linear'),
          peakLr: nonNegative,
          warmupSteps: z.number().int().nonnegative(),
          totalSteps: positiveInt.optional(),
          minLr: nonNegative.default(0),
        })
        .strict(),
      z
        .object({
          kind: z.literal('constant'),
          lr: nonNegative,
          warmupSteps: z.number().int().nonnegative().default(0),
        })
        .strict(),
    ]),
    moe: z
      .object({ balanceAlpha: nonNegative.default(1e-4), biasGamma: nonNegative.default(1e-3) })
      .strict()
      .default({ balanceAlpha: 1e-4, biasGamma: 1e-3 }),
    validation: z
      .object({
        split: z.string().default('validation'),
        every: positiveInt,
        maxBatches: positiveInt.optional(),
      })
      .strict()
      .optional(),
    earlyStopping: z
      .object({ patience: positiveInt, minDelta: nonNegative.default(0) })
      .strict()
      .optional(),
    output: z
      .object({
        /** Run directory: checkpoints, metrics.jsonl, loss.svg, final-model/. */
        dir: z.string(),
        checkpointEvery: positiveInt,
        keepLast: positiveInt.default(3),
      })
      .strict(),
    tracking: z
      .object({
        uri: z.string().optional(),
        experiment: z.string().optional(),
        runName: z.string().optional(),
        registerModelName: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type TrainConfig = z.output<typeof trainConfigSchema>;

/** Reads and validates a train.yaml; paths in it become absolute (relative to the file). */
export async function loadTrainConfig(path: string): Promise<TrainConfig> {
  const config = await loadYamlConfig({ path, schema: trainConfigSchema });
  return resolvePaths(config, resolve(path, '..'));
}

/** Validates a config object (errors name the field), resolving relative paths against `baseDir`. */
export function parseTrainConfig(
  value: unknown,
  baseDir: string,
  source = '<inline>',
): TrainConfig {
  return resolvePaths(validateConfig({ value, schema: trainConfigSchema, source }), baseDir);
}

function resolvePaths(config: TrainConfig, baseDir: string): TrainConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    model: {
      ...config.model,
      path: config.model.path === undefined ? undefined : abs(config.model.path),
    },
    data: { ...config.data, dir: abs(config.data.dir) },
    output: { ...config.output, dir: abs(config.output.dir) },
    // A tracking URI that is not a URL is a local mlruns directory.
    tracking: config.tracking && {
      ...config.tracking,
      uri:
        config.tracking.uri === undefined || /^[a-z][a-z0-9+.-]*:/i.test(config.tracking.uri)
          ? config.tracking.uri
          : abs(config.tracking.uri),
    },
  };
}

/** Options of runTraining. */
export interface RunTrainingOptions {
  config: TrainConfig;
  /** A checkpoint directory, or a run's checkpoint directory (its latest checkpoint is used). */
  resume?: string;
  tracker?: Tracker;
  logger?: Logger;
  progress?: false | { stream?: NodeJS.WritableStream; mode?: 'bar' | 'json' };
}

/**
 * Builds the DeepSeek model, the shard loaders and the Trainer from a validated config,
 * optionally resumes, and runs fit(). The caller selects the tfjs backend first.
 */
export async function runTraining(options: RunTrainingOptions): Promise<FitSummary> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ scope: 'train' });
  const model = config.model.path
    ? await DeepseekModel.load(config.model.path)
    : DeepseekModel.create(modelConfig(config), {
        seed: config.seed,
        initStd: config.model.initStd,
      });
  try {
    const seqLen = config.data.seqLen + 1;
    const open = (split: string, shuffle: boolean) =>
      createLoader({
        dir: config.data.dir,
        split,
        sequenceLength: seqLen,
        shuffle,
        seed: config.seed,
        epochs: split === config.data.split ? Number.POSITIVE_INFINITY : 1,
      });
    const data = loaderBatchSource({
      loader: await open(config.data.split, config.data.shuffle),
      batchSize: config.data.batchSize,
    });
    const validation = config.validation
      ? {
          data: loaderBatchSource({
            loader: await open(config.validation.split, false),
            batchSize: config.data.batchSize,
          }),
          every: config.validation.every,
          maxBatches: config.validation.maxBatches,
        }
      : undefined;
    const schedule =
      config.schedule.kind === 'constant'
        ? config.schedule
        : {
            ...config.schedule,
            totalSteps: config.schedule.totalSteps ?? config.training.maxSteps,
          };
    const trainer = new Trainer({
      model: deepseekTrainable(model),
      data,
      validation,
      earlyStopping: config.earlyStopping,
      schedule,
      maxSteps: config.training.maxSteps,
      optimizer: config.optimizer,
      gradAccumulation: config.training.gradAccumulation,
      clipNorm: config.training.clipNorm,
      recompute: config.training.recompute,
      mtpLambda: config.training.mtpLambda,
      moe: config.moe,
      checkpoint: {
        dir: join(config.output.dir, 'checkpoints'),
        every: config.output.checkpointEvery,
        keepLast: config.output.keepLast,
      },
      metricsFile: join(config.output.dir, 'metrics.jsonl'),
      tracker: options.tracker,
      registerModelName: config.tracking?.registerModelName,
      progress: options.progress,
      seed: config.seed,
      logger,
      params: {
        data_dir: config.data.dir,
        batch_size: config.data.batchSize,
        seq_len: config.data.seqLen,
      },
    });
    try {
      if (options.resume) await trainer.resume(await resolveResume(options.resume));
      return await trainer.fit();
    } finally {
      trainer.dispose();
    }
  } finally {
    model.dispose();
  }
}

function modelConfig(config: TrainConfig): DeepseekConfig {
  const preset = config.model.preset as Parameters<typeof presetConfig>[0];
  const known = new Set(Object.keys(presetConfig(preset)));
  for (const key of Object.keys(config.model.overrides)) {
    if (!known.has(key)) {
      throw new TrainerError(
        `config field 'model.overrides.${key}' is not a DeepseekConfig field`,
        {
          code: 'CONFIG_INVALID',
          context: { field: `model.overrides.${key}` },
        },
      );
    }
  }
  return presetConfig(preset, config.model.overrides as Partial<DeepseekConfig>);
}

/** A checkpoint path, or the latest complete checkpoint under a directory of them. */
async function resolveResume(path: string): Promise<string> {
  const latest = await latestCheckpoint(path);
  if (latest) return latest.path;
  const nested = await latestCheckpoint(join(path, 'checkpoints'));
  if (nested) return nested.path;
  return path;
}
