import type { CleanConfig } from '../config.js';
import type { StageStats } from '../report.js';
import type { Document } from '../types.js';

/** What each worker is started with: configs already validated on the main thread. */
export interface WorkerInit {
  /** Module of the text kernels the main thread uses (see @deepline/core's registerTextKernels); the worker loads the same. */
  textKernels?: string;
  clean: CleanConfig | false;
  dedup:
    | {
        exact: boolean;
        minhash: { ngram: number; bands: number; rows: number; seed: number } | false;
      }
    | false;
}

export interface BatchRequest {
  id: number;
  docs: Document[];
}

export interface BatchResult {
  id: number;
  items: Array<{ doc: Document; exact?: number; signature?: Int32Array }>;
  stages: StageStats[];
}
