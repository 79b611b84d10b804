export { createTracker, withTracker, replaySpill, MlflowTracker, type CreateTrackerOptions, type EndReport, type DatasetOptions } from './mlflowTracker.js';
export { openStore, resolveTrackingUri, type OpenStoreOptions } from './openStore.js';
export type { TrackingStore, CreateRunOptions, SearchRunsOptions } from './store.js';
export { RestStore, RUN_TOKEN_TAG } from './restStore.js';
export { FileStore } from './fileStore.js';
export { RestTransport, parseRetryAfter, isTransient, RETRYABLE_STATUSES, type CallOptions } from './restTransport.js';
export { RunLogger, type RunLoggerOptions, type RunLoggerStats } from './runLogger.js';
export { TrackingError, MlflowApiError, isApiError, type TrackingErrorContext } from './errors.js';
export { connectionFromEnv, authorizationFromEnv, retryOptionsFromEnv, type ConnectionOptions, type RetryOptions } from './env.js';
export { splitBatch, DEFAULT_BATCH_LIMITS, type BatchLimits } from './batching.js';
export { encodeDouble, decodeDouble, pythonFloatRepr, parsePythonFloat, keyProblem } from './encoding.js';
export { parseRunFilter, matchesRunFilter, type FilterClause } from './runFilter.js';
export { lineChartSvg, heatmapSvg, svgToPng, renderVegaLiteSvg, type ChartSeries, type LineChartOptions, type HeatmapOptions } from './plots.js';
export { sourceTags, gitInfo } from './sourceTags.js';
export { toMlflowYaml } from './mlflowYaml.js';
export { LIMITS } from './limits.js';
export {
  RUN_STATUS_CODES,
  type RunStatus,
  type Experiment,
  type RunInfo,
  type Run,
  type Metric,
  type Dataset,
  type DatasetInput,
  type ArtifactFile,
  type ModelVersion,
  type RegisteredModel,
  type LogBatch,
} from './types.js';
