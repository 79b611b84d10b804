import type { BackendChoice } from '@deepline/core';
import type { DeepseekConfig } from '@deepline/layers';
import type { NextToken } from '../engine/languageModel.js';

/** Where the worker gets its model: a model directory, or a random-weight config (tests, benchmarks). */
export type WorkerModelSource =
  | { kind: 'dir'; dir: string; contextLength?: number }
  | { kind: 'random'; config: DeepseekConfig; seed: number; initStd: number; contextLength?: number };

export interface WorkerStart {
  kind: 'start';
  request: number;
  source: WorkerModelSource;
  backend?: BackendChoice;
  /** Module URL whose default export runs in the worker first (e.g. registers kernels). */
  setup?: string;
}

export type WorkerRequest =
  | WorkerStart
  | {
      kind: 'run';
      request: number;
      chunks: Array<{ id: number; tokens: readonly number[]; greedy?: boolean }>;
      steps: Array<{ id: number; token: number; greedy?: boolean }>;
    }
  | { kind: 'dispose'; request: number; id: number }
  | { kind: 'close'; request: number };

export type WorkerReply =
  | { kind: 'started'; vocabSize: number; contextLength: number; kvBytesPerToken: number }
  | { kind: 'results'; results: NextToken[] }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };
