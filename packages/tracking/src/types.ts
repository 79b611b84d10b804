/** Run states as MLflow names them (the FileStore writes their integer codes). */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** Integer codes MLflow's FileStore writes in a run's meta.yaml `status` field. */
export const RUN_STATUS_CODES: Record<RunStatus, number> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };

export interface Experiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTime?: number;
  lastUpdateTime?: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  runName: string;
  experimentId: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: string;
}

/** One metric point. `value` may be NaN or ±Infinity. */
export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface Dataset {
  name: string;
  /** At most 36 characters. */
  digest: string;
  sourceType: string;
  /** JSON string describing where the data came from. */
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  dataset: Dataset;
  tags: Record<string, string>;
}

export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: Record<string, string>; tags: Record<string, string> };
  inputs: DatasetInput[];
}

export interface ArtifactFile {
  /** Path relative to the run's artifact root. */
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  runId?: string;
  status: string;
  creationTimestamp?: number;
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  creationTimestamp?: number;
  lastUpdatedTimestamp?: number;
  description?: string;
  aliases: Record<string, string>;
  tags: Record<string, string>;
}

/** What one `log-batch` call carries. */
export interface LogBatch {
  metrics: Metric[];
  params: Record<string, string>;
  tags: Record<string, string>;
}
