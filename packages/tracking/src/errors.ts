import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a tracking failure. */
export interface TrackingErrorContext {
  /** MLflow's error code (`RESOURCE_DOES_NOT_EXIST`, `INVALID_PARAMETER_VALUE`, …) when the server sent one. */
  error_code?: string;
  /** HTTP status of the failed request. */
  status?: number;
  /** REST endpoint or file that failed. */
  endpoint?: string;
  file?: string;
  /** The offending keys (params/tags/metrics) of a validation failure. */
  keys?: string[];
  field?: string;
  [key: string]: unknown;
}

/**
 * Every error @deepline/tracking raises. `code` is ours (`API_ERROR`, `INVALID_KEY`,
 * `VALUE_TOO_LONG`, `AMBIGUOUS_WRITE`, …); `context.error_code` is MLflow's when it sent one.
 */
export class TrackingError extends DeeplineError<TrackingErrorContext> {
  /** MLflow's error code, or our own `code` for client-side failures. */
  get error_code(): string {
    return this.context.error_code ?? this.code;
  }
}

/** A non-2xx answer of the MLflow REST API. */
export class MlflowApiError extends TrackingError {
  readonly status: number;
  readonly body: string;

  constructor(options: { status: number; endpoint: string; errorCode?: string; message: string; body: string }) {
    super(`MLflow ${options.endpoint}: HTTP ${options.status}${options.errorCode ? ` ${options.errorCode}` : ''}: ${options.message}`, {
      code: 'API_ERROR',
      context: { status: options.status, endpoint: options.endpoint, error_code: options.errorCode ?? `HTTP_${options.status}` },
    });
    this.status = options.status;
    this.body = options.body;
  }

  get errorCode(): string {
    return this.error_code;
  }
}

export function isApiError(error: unknown, errorCode?: string): error is MlflowApiError {
  return error instanceof MlflowApiError && (errorCode === undefined || error.error_code === errorCode);
}
