import { type Logger, SeededRandom, createLogger, loadYamlConfig, validateConfig } from '@deepline/core';
import { createTracker } from '@deepline/tracking';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { type PipelineConfig, PIPELINE_PRESETS, pipelineConfigSchema } from './config.js';
import { PipelineError } from './errors.js';
import { runPipeline } from './runPipeline.js';

/** A hyper-parameter search: a base config, a space of dotted paths to values, and a target metric. */
export const searchConfigSchema = z.strictObject({
  /** Preset the base config starts from. */
  preset: z.string().default('default'),
  /** Pipeline config fields over the preset. */
  base: z.record(z.string(), z.unknown()).default({}),
  /** Dotted config paths (e.g. `train.peakLr`) to the values to try. */
  space: z.record(z.string(), z.array(z.union([z.number(), z.string(), z.boolean()])).min(1)),
  strategy: z.enum(['grid', 'random']).default('grid'),
  /** Trials for random search (grid runs every combination). */
  trials: z.number().int().positive().default(4),
  /** `<stage>.<metric>` to optimise, e.g. `evaluate.test_perplexity`. */
  metric: z.string().default('evaluate.test_perplexity'),
  goal: z.enum(['minimize', 'maximize']).default('minimize'),
  seed: z.number().int().default(0),
});
export type SearchConfig = z.output<typeof searchConfigSchema>;

export interface SearchTrial {
  index: number;
  assignment: Record<string, unknown>;
  value: number;
  runId: string;
}

export interface SearchResult {
  trials: SearchTrial[];
  best: SearchTrial;
  runId: string;
}

export async function loadSearchConfig(path: string): Promise<SearchConfig> {
  return loadYamlConfig({ path, schema: searchConfigSchema });
}

/** Every combination of the space (grid) or `trials` random draws from it. */
export function searchAssignments(search: SearchConfig): Record<string, unknown>[] {
  const keys = Object.keys(search.space);
  if (search.strategy === 'random') {
    const rng = new SeededRandom(search.seed);
    return Array.from({ length: search.trials }, () => Object.fromEntries(keys.map((k) => [k, search.space[k]![rng.int(search.space[k]!.length)]])));
  }
  let combos: Record<string, unknown>[] = [{}];
  for (const key of keys) combos = combos.flatMap((c) => search.space[key]!.map((v) => ({ ...c, [key]: v })));
  return combos;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] = typeof node[part] === 'object' && node[part] !== null ? { ...(node[part] as object) } : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function trialConfig(search: SearchConfig, assignment: Record<string, unknown>): PipelineConfig {
  const preset = PIPELINE_PRESETS[search.preset];
  if (!preset) throw new PipelineError(`search preset '${search.preset}' is unknown; use one of ${Object.keys(PIPELINE_PRESETS).join(', ')}`, { code: 'PIPELINE_CONFIG', context: { field: 'preset' } });
  const raw = structuredClone({ ...preset, ...search.base }) as Record<string, unknown>;
  for (const [path, value] of Object.entries(assignment)) setPath(raw, path, value);
  return validateConfig({ value: raw, schema: pipelineConfigSchema, source: `search trial ${JSON.stringify(assignment)}` });
}

/**
 * Runs each trial as a pipeline (data → evaluate) nested under one search run; stages that a
 * trial's assignment does not touch come from the shared cache. Reports the best trial.
 */
export async function searchPipeline(options: { search: SearchConfig; cwd?: string; logger?: Logger }): Promise<SearchResult> {
  const { search } = options;
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? createLogger({ scope: 'search' });
  const [stageName, metricName] = [search.metric.split('.')[0]!, search.metric.split('.').slice(1).join('.')];
  const assignments = searchAssignments(search);
  const first = trialConfig(search, assignments[0]!);
  const outDir = isAbsolute(first.outDir) ? first.outDir : resolve(cwd, first.outDir);
  const uri = first.tracking.uri ?? process.env.MLFLOW_TRACKING_URI ?? join(cwd, 'mlruns');
  const parent = await createTracker({ uri, experimentName: first.tracking.experiment ?? first.name, runName: `${first.name}-search`, tags: { 'deepline.kind': 'search' } });
  try {
    await parent.logParams({ strategy: search.strategy, metric: search.metric, goal: search.goal, trials: assignments.length, space: JSON.stringify(search.space) });
    const trials: SearchTrial[] = [];
    for (const [index, assignment] of assignments.entries()) {
      const config = { ...trialConfig(search, assignment), outDir };
      logger.info(`trial ${index + 1}/${assignments.length}: ${JSON.stringify(assignment)}`);
      const run = await runPipeline({ config, cwd, logger, until: stageName, parentRunId: parent.runId, tags: { 'deepline.trial': String(index) } });
      const value = run.results[stageName]?.metrics[metricName];
      if (value === undefined) {
        throw new PipelineError(`metric '${search.metric}' was not produced; stage '${stageName}' reports: ${Object.keys(run.results[stageName]?.metrics ?? {}).join(', ')}`, { code: 'PIPELINE_CONFIG', context: { field: 'metric' } });
      }
      trials.push({ index, assignment, value, runId: run.tracking.runId });
      await parent.logMetrics({ [search.metric]: value }, { step: index });
    }
    const better = (a: SearchTrial, b: SearchTrial) => (search.goal === 'minimize' ? a.value < b.value : a.value > b.value);
    const best = trials.reduce((a, b) => (better(b, a) ? b : a));
    await parent.setTags({ 'deepline.best_trial': String(best.index), 'deepline.best_run_id': best.runId });
    await parent.logMetrics({ [`best.${search.metric}`]: best.value });
    await parent.end('FINISHED');
    return { trials, best, runId: parent.runId };
  } catch (error) {
    await parent.end('FAILED');
    throw error;
  }
}
