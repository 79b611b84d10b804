export { AdamW, type AdamWOptions, type AdamWState, defaultDecay } from './adamw.js';
export {
  expertLoad,
  type RoutingRecord,
  type SequenceBalanceLossOptions,
  sequenceBalanceLoss,
  updateGateBias,
} from './balance.js';
export {
  ArrayBatchSource,
  type ArrayBatchSourceOptions,
  type BatchSource,
  packTokens,
  type TokenBatch,
} from './batchSource.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointInfo,
  checkpointName,
  type LoadedCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  loadWeightsInto,
  pruneCheckpoints,
  readCheckpoint,
  type TrainerState,
  type WriteCheckpointOptions,
  writeCheckpoint,
  writeModel,
} from './checkpoint.js';
export { type ClipResult, clipGradients, globalNorm } from './clipping.js';
export { deepseekTrainable } from './deepseekTrainable.js';
export { TrainerError, type TrainerErrorContext } from './errors.js';
export { loaderBatchSource, type SequenceLoader } from './loaderSource.js';
export { crossEntropy, mtpLoss, shiftTokens } from './losses.js';
export { lossPlotSvg, type PlotSeries } from './lossPlot.js';
export {
  type MicroBatchOptions,
  type MicroBatchResult,
  microBatchGradients,
} from './microBatch.js';
export type { TrainableModel, TrainForwardOptions, TrainForwardOutput } from './model.js';
export { recomputeGrad } from './recompute.js';
export { type EvalMetrics, RunReporter, type StepMetrics } from './runReporter.js';
export {
  type ConstantSchedule,
  type CosineSchedule,
  type LinearSchedule,
  type LrSchedule,
  learningRateAt,
  validateSchedule,
} from './schedule.js';
export {
  loadTrainConfig,
  parseTrainConfig,
  type RunTrainingOptions,
  runTraining,
  type TrainConfig,
  trainConfigSchema,
} from './trainConfig.js';
export { type FitSummary, Trainer, type TrainerOptions } from './trainer.js';
