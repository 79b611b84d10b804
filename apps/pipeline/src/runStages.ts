import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@deepline/core';
import { PipelineError } from './errors.js';
import type { RunTracker, Stage, StageResult } from './stage.js';
import { StageCache, stageHash } from './stageCache.js';

export interface RunStagesOptions<C> {
  config: C;
  stages: Stage<C>[];
  /** Cache root, e.g. <out>/cache. */
  cacheDir: string;
  /** Re-run this stage and every later one (earlier ones come from the cache). */
  from?: string;
  /** Re-run only this stage (its inputs must be cached). */
  only?: string;
  /** Stop after this stage (later stages are neither run nor loaded). */
  until?: string;
  /** The parent run; each stage gets a nested child run. */
  tracker: RunTracker;
  logger: Logger;
  /** Bumped when a stage's code changes meaning, to invalidate old cache entries. */
  version: string;
}

/** Runs stages in order with content-hash caching; returns every stage's result. */
export async function runStages<C>(options: RunStagesOptions<C>): Promise<Record<string, StageResult>> {
  const { stages, config } = options;
  const names = stages.map((s) => s.name);
  for (const flag of ['from', 'only', 'until'] as const) {
    const value = options[flag];
    if (value !== undefined && !names.includes(value)) {
      throw new PipelineError(`--${flag} names unknown stage '${value}'; stages are: ${names.join(', ')}`, {
        code: 'PIPELINE_STAGE',
        context: { field: flag, stage: value },
      });
    }
  }
  const cache = new StageCache(options.cacheDir);
  const results: Record<string, StageResult> = {};
  const fromIndex = options.from === undefined ? -1 : names.indexOf(options.from);
  for (const [index, stage] of stages.entries()) {
    const inputs = Object.fromEntries(stage.dependsOn.map((d) => [d, results[d]!]));
    const hash = stageHash({
      stage: stage.name,
      version: options.version,
      configSlice: stage.configSlice(config),
      inputHashes: stage.dependsOn.map((d) => results[d]!.hash),
    });
    const forced = options.only === stage.name || (fromIndex >= 0 && index >= fromIndex);
    const skipped = options.only !== undefined && options.only !== stage.name;
    const cached = forced ? undefined : await cache.load(stage.name, hash);
    if (cached) {
      results[stage.name] = cached;
      options.logger.info(`stage ${stage.name}: cached (${hash})`);
      await logCachedRun(options.tracker, stage, config, cached);
      if (stage.name === options.until) break;
      continue;
    }
    if (skipped) {
      throw new PipelineError(
        `stage '${stage.name}' has no cached result for this config, so --only ${options.only} cannot run; run the pipeline without --only first`,
        { code: 'PIPELINE_CACHE_MISS', context: { stage: stage.name } },
      );
    }
    results[stage.name] = await runOne(stage, { ...options, cache, hash, inputs });
    if (stage.name === options.until) break;
  }
  return results;
}

async function runOne<C>(
  stage: Stage<C>,
  options: RunStagesOptions<C> & { cache: StageCache; hash: string; inputs: Record<string, StageResult> },
): Promise<StageResult> {
  const { cache, hash, config } = options;
  const resuming = stage.resumable === true && existsSync(cache.partialDir(stage.name, hash));
  const dir = await cache.begin(stage.name, hash, stage.resumable === true);
  options.logger.info(`stage ${stage.name}: ${resuming ? 'resuming' : 'running'} — ${stage.description}`);
  const run = await options.tracker.child(stage.name, { 'deepline.stage': stage.name, 'deepline.cached': 'false' });
  const started = performance.now();
  try {
    if (stage.params) await run.logParams(stage.params(config));
    const output = await stage.run({ config, dir, inputs: options.inputs, tracker: run, logger: options.logger.child(stage.name) });
    const seconds = (performance.now() - started) / 1000;
    await run.logMetrics({ ...output.metrics, stage_seconds: seconds });
    for (const artifact of output.artifacts ?? []) await run.logArtifact(join(dir, artifact));
    const result = await cache.commit({ stage: stage.name, hash, dir, outputs: output.outputs, metrics: output.metrics, seconds, cached: false });
    await run.end('FINISHED');
    return result;
  } catch (error) {
    await run.end('FAILED');
    throw error;
  }
}

async function logCachedRun<C>(tracker: RunTracker, stage: Stage<C>, config: C, cached: StageResult): Promise<void> {
  const run = await tracker.child(stage.name, { 'deepline.stage': stage.name, 'deepline.cached': 'true', 'deepline.cache_hash': cached.hash });
  if (stage.params) await run.logParams(stage.params(config));
  await run.logMetrics(cached.metrics);
  await run.end('FINISHED');
}
