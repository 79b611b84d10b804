import type { Logger, Tracker } from '@deepline/core';

/** A tracker run that can open nested child runs (one per stage) and end itself. */
export interface RunTracker extends Tracker {
  readonly runId: string;
  child(runName: string, tags?: Record<string, string>): Promise<RunTracker>;
  end(status?: 'FINISHED' | 'FAILED' | 'KILLED'): Promise<void>;
}

/** What a finished stage leaves behind (persisted as result.json in its cache entry). */
export interface StageResult {
  stage: string;
  /** Content hash of the stage's config slice and its inputs' hashes: the cache key. */
  hash: string;
  /** Directory holding the stage's output files. */
  dir: string;
  /** JSON-serialisable outputs other stages read (file names relative to dir, counts…). */
  outputs: Record<string, unknown>;
  /** Numbers for the summary and the tracker. */
  metrics: Record<string, number>;
  seconds: number;
  /** true when this run reused a cached result. */
  cached: boolean;
}

export interface StageContext<C> {
  config: C;
  /** Output directory of this stage. A resumable stage finds its previous partial work here. */
  dir: string;
  /** Results of the stages this one depends on, by stage name. */
  inputs: Record<string, StageResult>;
  tracker: RunTracker;
  logger: Logger;
}

export interface StageOutput {
  outputs: Record<string, unknown>;
  metrics: Record<string, number>;
  /** Files (relative to dir) or directories logged as artifacts of the stage's run. */
  artifacts?: string[];
}

export interface Stage<C> {
  name: string;
  /** One line shown in progress and help. */
  description: string;
  dependsOn: string[];
  /** The part of the config that determines this stage's output; it is hashed. */
  configSlice(config: C): unknown;
  /** Params logged on the stage's run (flat). */
  params?(config: C): Record<string, string | number | boolean>;
  /** Keep partial output across interruptions so run() can resume (training checkpoints). */
  resumable?: boolean;
  run(context: StageContext<C>): Promise<StageOutput>;
}
