import { DeeplineError } from '@deepline/core';

export interface PipelineErrorContext {
  stage?: string;
  field?: string;
  file?: string;
  [key: string]: unknown;
}

/** Errors from the pipeline app; context names the stage, config field or file. */
export class PipelineError extends DeeplineError<PipelineErrorContext> {}
