import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a serving error; `status` is the HTTP status the server answers with. */
export interface ServingErrorContext {
  /** HTTP status code (4xx for client mistakes, 5xx only for server faults). */
  status: number;
  /** OpenAI error `type`, e.g. `invalid_request_error`. */
  type: string;
  /** Request field at fault (dotted path), when one is. */
  param?: string | null;
  /** Seconds a client should wait before retrying (429/503). */
  retryAfterSeconds?: number;
  [key: string]: unknown;
}

/** Errors raised by @deepline/serving. `code` is OpenAI's error code (e.g. `model_not_found`). */
export class ServingError extends DeeplineError<ServingErrorContext> {}

/** A 400 `invalid_request_error` naming the offending field. */
export function invalidRequest(message: string, param: string | null = null, code = 'invalid_request'): ServingError {
  return new ServingError(message, { code, context: { status: 400, type: 'invalid_request_error', param } });
}
