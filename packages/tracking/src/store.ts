import type { ArtifactFile, Dataset, Experiment, LogBatch, Metric, ModelVersion, RegisteredModel, Run, RunInfo, RunStatus } from './types.js';

/** Options to create a run. */
export interface CreateRunOptions {
  experimentId: string;
  runName: string;
  /** ms since the epoch. */
  startTime: number;
  userId: string;
  tags: Record<string, string>;
}

export interface SearchRunsOptions {
  experimentIds: string[];
  /** MLflow filter string (REST store only; the local store supports the subset documented in fileStore.ts). */
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
}

/**
 * What a tracker needs from a backend: the MLflow REST API (RestStore) or MLflow's
 * `mlruns` FileStore layout (FileStore). Both speak MLflow's semantics (param values
 * immutable, metrics append, tags overwrite).
 */
export interface TrackingStore {
  /** 'rest' or 'file'. */
  readonly kind: 'rest' | 'file';
  /** The tracking URI (http(s)://… or an absolute mlruns path). */
  readonly uri: string;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  createExperiment(name: string, tags?: Record<string, string>): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  searchExperiments(options?: { maxResults?: number }): Promise<Experiment[]>;
  createRun(options: CreateRunOptions): Promise<RunInfo>;
  updateRun(runId: string, status: RunStatus, endTime: number | null): Promise<void>;
  getRun(runId: string): Promise<Run>;
  searchRuns(options: SearchRunsOptions): Promise<Run[]>;
  /**
   * One request's worth (see splitBatch); stores may throw transient errors. With
   * `verifyFirst`, metric points already stored (by an attempt whose outcome was unknown)
   * are skipped instead of written twice.
   */
  logBatch(runId: string, batch: LogBatch, options?: { verifyFirst?: boolean }): Promise<void>;
  logInputs(runId: string, datasets: { dataset: Dataset; tags: Record<string, string> }[]): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  /** Copies a file or directory under `artifactPath` (a directory relative to the run's artifact root). */
  logArtifact(run: RunInfo, localPath: string, artifactPath?: string): Promise<void>;
  listArtifacts(run: RunInfo, path?: string): Promise<ArtifactFile[]>;
  downloadArtifact(run: RunInfo, path: string, destination: string): Promise<void>;
  createRegisteredModel(name: string): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  createModelVersion(options: { name: string; source: string; runId?: string }): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  deleteAlias(name: string, alias: string): Promise<void>;
  close(): void;
}
