import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { type Logger, createLogger, initBackend } from '@deepline/core';
import { registerNativeKernels, registerNativeTextKernels } from '@deepline/kernels-native';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { createTracker } from '@deepline/tracking';
import type { PipelineConfig } from './config.js';
import { formatSummary } from './formatSummary.js';
import { PIPELINE_STAGES } from './pipelineStages.js';
import { type PublishedOutputs, publishOutputs } from './publishOutputs.js';
import { runStages } from './runStages.js';
import type { StageResult } from './stage.js';
import { asRunTracker } from './trackerAdapter.js';

// Bump when a stage's output format or meaning changes, to invalidate old cache entries.
export const PIPELINE_CACHE_VERSION = '1';

export interface RunPipelineOptions {
  config: PipelineConfig;
  /** Re-run this stage and all later ones. */
  from?: string;
  /** Re-run only this stage. */
  only?: string;
  /** Stop after this stage (search trials stop after 'evaluate'). */
  until?: string;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
  logger?: Logger;
  /** Nest this pipeline under an existing MLflow run (used by `pipeline search`). */
  parentRunId?: string;
  /** Extra tags on the pipeline's run. */
  tags?: Record<string, string>;
}

export interface PipelineRun {
  results: Record<string, StageResult>;
  outputs: PublishedOutputs;
  summary: string;
  tracking: { uri: string; experiment: string; runId: string };
}

/** Runs the whole pipeline under one MLflow parent run with a nested run per stage. */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineRun> {
  const { config } = options;
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? createLogger({ scope: 'pipeline' });
  const outDir = isAbsolute(config.outDir) ? config.outDir : resolve(cwd, config.outDir);
  await registerWasmKernels();
  await registerNativeKernels();
  // The data stage's hot loops (same results as the JavaScript, when the addon is built).
  registerNativeTextKernels();
  await initBackend({ backend: config.backend as never, logger });
  const uri = config.tracking.uri ?? process.env.MLFLOW_TRACKING_URI ?? join(cwd, 'mlruns');
  const experiment = config.tracking.experiment ?? config.name;
  const parent = await createTracker({ uri, experimentName: experiment, runName: `${config.name}-pipeline`, parentRunId: options.parentRunId, tags: { 'deepline.kind': 'pipeline', ...options.tags } });
  const started = performance.now();
  try {
    await parent.logParams({ name: config.name, seed: config.seed, backend: config.backend });
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await parent.logArtifact(join(outDir, 'config.json'));
    const results = await runStages({
      config,
      stages: PIPELINE_STAGES,
      cacheDir: join(outDir, 'cache'),
      from: options.from,
      only: options.only,
      until: options.until,
      tracker: asRunTracker(parent),
      logger,
      version: PIPELINE_CACHE_VERSION,
    });
    const outputs = options.only || options.until ? emptyOutputs(outDir) : await publishOutputs(outDir, results);
    const tracking = { uri, experiment, runId: parent.runId };
    const summary = formatSummary({ results, outputs, tracking, cwd, seconds: (performance.now() - started) / 1000 });
    await writeFile(join(outDir, 'summary.txt'), summary);
    await parent.logArtifact(join(outDir, 'summary.txt'));
    const headline: Record<string, number> = {};
    for (const [stage, result] of Object.entries(results)) for (const [k, v] of Object.entries(result.metrics)) headline[`${stage}.${k}`] = v;
    await parent.logMetrics(headline);
    await parent.end('FINISHED');
    return { results, outputs, summary, tracking };
  } catch (error) {
    await parent.end('FAILED');
    throw error;
  }
}

function emptyOutputs(outDir: string): PublishedOutputs {
  return { dir: join(outDir, 'outputs'), model: join(outDir, 'outputs', 'model'), quantized: {}, gguf: {} };
}
