import type { PipelineConfig } from './config.js';
import type { Stage } from './stage.js';
import { dataStage } from './stages/dataStage.js';
import { evaluateStage } from './stages/evaluateStage.js';
import { exportStage } from './stages/exportStage.js';
import { quantizeStage } from './stages/quantizeStage.js';
import { shardStage } from './stages/shardStage.js';
import { tokenizerStage } from './stages/tokenizerStage.js';
import { trainStage } from './stages/trainStage.js';

/** The main job, in order: raw text → served, quantized model. */
export const PIPELINE_STAGES: Stage<PipelineConfig>[] = [
  dataStage,
  tokenizerStage,
  shardStage,
  trainStage,
  evaluateStage,
  quantizeStage,
  exportStage,
];
