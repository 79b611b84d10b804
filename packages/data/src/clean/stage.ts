import type { Document } from '../types.js';

/** A stage's "no": a short reason code plus an optional human detail. */
export interface StageRejection {
  rejected: true;
  reason: string;
  detail?: string;
}

/** A stage returns the (possibly rewritten) document, several documents (splitting), or a rejection. */
export type StageResult = Document | Document[] | StageRejection;

/** One composable cleaning step. `apply` must be pure with respect to other documents. */
export interface CleaningStage {
  readonly name: string;
  /**
   * Run over a whole batch at a time rather than interleaved with the other stages per
   * document (for stages whose model is worth keeping hot in the CPU caches). Never changes
   * results: stages are pure per document.
   */
  readonly batchwise?: boolean;
  apply(doc: Document): StageResult;
}

export function reject(reason: string, detail?: string): StageRejection {
  return detail === undefined ? { rejected: true, reason } : { rejected: true, reason, detail };
}

export function isRejection(result: StageResult): result is StageRejection {
  return (result as StageRejection).rejected === true;
}
