export { runStages, type RunStagesOptions } from './runStages.js';
export { StageCache, stageHash, canonicalJson } from './stageCache.js';
export type { Stage, StageContext, StageOutput, StageResult, RunTracker } from './stage.js';
export { PipelineError, type PipelineErrorContext } from './errors.js';
