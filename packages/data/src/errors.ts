import { DeeplineError } from '@deepline/core';

/** Machine-readable details attached to every {@link DataError}. */
export interface DataErrorContext {
  file?: string;
  line?: number;
  field?: string;
  stage?: string;
  [key: string]: unknown;
}

/** Errors raised by @deepline/data (bad options, unreadable inputs, malformed shards). */
export class DataError extends DeeplineError<DataErrorContext> {}
