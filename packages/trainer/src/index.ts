export { TrainerError, type TrainerErrorContext } from './errors.js';
export {
  learningRateAt,
  validateSchedule,
  type LrSchedule,
  type CosineSchedule,
  type ConstantSchedule,
  type LinearSchedule,
} from './schedule.js';
export { AdamW, defaultDecay, type AdamWOptions, type AdamWState } from './adamw.js';
export { clipGradients, globalNorm, type ClipResult } from './clipping.js';
export {
  sequenceBalanceLoss,
  updateGateBias,
  expertLoad,
  type RoutingRecord,
  type SequenceBalanceLossOptions,
} from './balance.js';
export { crossEntropy, shiftTokens, mtpLoss } from './losses.js';
export { recomputeGrad } from './recompute.js';
export type { TrainableModel, TrainForwardOptions, TrainForwardOutput } from './model.js';
export {
  ArrayBatchSource,
  packTokens,
  type ArrayBatchSourceOptions,
  type BatchSource,
  type TokenBatch,
} from './batchSource.js';
export {
  microBatchGradients,
  type MicroBatchOptions,
  type MicroBatchResult,
} from './microBatch.js';
export {
  writeCheckpoint,
  readCheckpoint,
  loadWeightsInto,
  listCheckpoints,
  latestCheckpoint,
  pruneCheckpoints,
  checkpointName,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type TrainerState,
  type CheckpointInfo,
  type LoadedCheckpoint,
  type WriteCheckpointOptions,
} from './checkpoint.js';
export { lossPlotSvg, type PlotSeries } from './lossPlot.js';
export {
  Trainer,
  type TrainerOptions,
  type StepMetrics,
  type EvalMetrics,
  type FitSummary,
} from './trainer.js';
export { deepseekTrainable } from './deepseekTrainable.js';
export { loaderBatchSource, type SequenceLoader } from './loaderSource.js';
export {
  trainConfigSchema,
  loadTrainConfig,
  parseTrainConfig,
  runTraining,
  type TrainConfig,
  type RunTrainingOptions,
} from './trainConfig.js';
