import type { CleanConfigInput, DedupConfig } from '../config.js';
import type { StageStats } from '../report.js';
import type { Document } from '../types.js';

/** What each worker is started with. */
export interface WorkerInit {
  clean: CleanConfigInput | false;
  dedup: DedupConfig | false;
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
