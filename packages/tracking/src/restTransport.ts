import type http from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { type ConnectionOptions, type RetryOptions, retryOptionsFromEnv } from './env.js';
import { MlflowApiError, TrackingError } from './errors.js';
import { createAgent, type HttpResponse, httpRequest, TransportError } from './httpRequest.js';

/** Statuses the Python client retries (mlflow/utils/request_utils.py). */
export const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** Statuses that mean the server did not apply the request, so even a non-idempotent call may be resent. */
const NOT_APPLIED_STATUSES = new Set([408, 429, 503]);

export interface CallOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** Query parameters; arrays become repeated keys. */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  json?: unknown;
  body?: Buffer | (() => Readable);
  contentType?: string;
  /**
   * false for calls whose repetition duplicates work (runs/create, log-batch with metrics,
   * model-versions/create): those are resent only when the server certainly did not apply
   * them (408/429/503, connection never made); otherwise AMBIGUOUS_WRITE is thrown so the
   * caller can check what landed.
   */
  idempotent: boolean;
  sink?: () => Writable;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After as ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Reads an MLflow error body defensively: JSON `{error_code, message}`, or Flask's HTML. */
export function apiErrorFrom(endpoint: string, response: HttpResponse): MlflowApiError {
  const text = response.body.toString('utf8');
  let errorCode: string | undefined;
  let message = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (typeof parsed.error_code === 'string') errorCode = parsed.error_code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON: unknown routes get Flask's HTML 404, proxies send their own pages.
    if (response.status === 404) {
      errorCode = 'ENDPOINT_NOT_FOUND';
      message = `endpoint not found (non-JSON reply; is the tracking URI an MLflow server?)${message ? `: ${message}` : ''}`;
    }
  }
  return new MlflowApiError({ status: response.status, endpoint, errorCode, message: message || '(empty body)', body: text });
}

/**
 * HTTP to one MLflow server: auth header, per-request timeout and the Python client's
 * retry policy (408/429/5xx and network errors, exponential backoff with jitter,
 * Retry-After), without resending non-idempotent calls that may have been applied.
 */
export class RestTransport {
  readonly baseUri: string;
  readonly retry: RetryOptions;
  private readonly authorization?: string;
  private readonly agent: http.Agent;

  constructor(options: ConnectionOptions) {
    this.baseUri = options.uri.replace(/\/+$/, '');
    this.retry = { ...retryOptionsFromEnv({}), ...options.retry };
    this.authorization = options.authorization;
    this.agent = createAgent({ https: this.baseUri.startsWith('https:'), ...options });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  private url(path: string, query: CallOptions['query']): URL {
    const url = new URL(`${this.baseUri}/${path.replace(/^\/+/, '')}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
    }
    return url;
  }

  private backoff(retryNumber: number, response?: HttpResponse): number {
    const retryAfter = this.retry.respectRetryAfter && response ? parseRetryAfter(response.headers['retry-after']) : undefined;
    const exponential = this.retry.backoffFactorMs * 2 ** (retryNumber - 1) + Math.random() * this.retry.backoffJitterMs;
    return Math.min(this.retry.maxBackoffMs, retryAfter ?? exponential);
  }

  /** Sends one call with retries; resolves to the raw 2xx response. */
  async request(path: string, options: CallOptions): Promise<HttpResponse> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { 'User-Agent': 'deepline-tracking' };
    if (this.authorization) headers.Authorization = this.authorization;
    let body: Buffer | (() => Readable) | undefined = options.body;
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      headers['Content-Type'] = 'application/json';
    } else if (options.contentType) headers['Content-Type'] = options.contentType;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < this.retry.maxRetries;
      let response: HttpResponse;
      try {
        response = await httpRequest({ url, method: options.method, headers, body, timeoutMs: this.retry.timeoutMs, agent: this.agent, sink: options.sink });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if (!options.idempotent && error.phase === 'sent') throw ambiguous(path, error);
        if (!canRetry) {
          throw new TrackingError(`MLflow server ${this.baseUri} unreachable after ${attempt + 1} attempts: ${error.message}`, {
            code: 'UNREACHABLE',
            context: { endpoint: path, error_code: 'UNREACHABLE' },
            cause: error,
          });
        }
        await sleep(this.backoff(attempt + 1));
        continue;
      }
      if (response.status >= 200 && response.status < 300) return response;
      const apiError = apiErrorFrom(path, response);
      if (!RETRYABLE_STATUSES.has(response.status)) throw apiError;
      if (!options.idempotent && !NOT_APPLIED_STATUSES.has(response.status)) throw ambiguous(path, apiError);
      if (!canRetry) throw apiError;
      await sleep(this.backoff(attempt + 1, response));
    }
  }

  /** A JSON call under `/api/2.0/mlflow/`. */
  async call<T>(endpoint: string, options: CallOptions): Promise<T> {
    const response = await this.request(`api/2.0/mlflow/${endpoint}`, options);
    const text = response.body.toString('utf8');
    if (text.trim() === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TrackingError(`MLflow ${endpoint}: reply is not JSON: ${text.slice(0, 200)}`, {
        code: 'BAD_RESPONSE',
        context: { endpoint, status: response.status, error_code: 'BAD_RESPONSE' },
      });
    }
  }
}

function ambiguous(endpoint: string, cause: TrackingError): TrackingError {
  return new TrackingError(`MLflow ${endpoint}: the server may or may not have applied this non-idempotent call (${cause.message})`, {
    code: 'AMBIGUOUS_WRITE',
    context: { endpoint, error_code: cause.error_code, status: cause.context.status },
    cause,
  });
}

/** True when a failure is temporary (server down, overloaded): data should be kept and resent later. */
export function isTransient(error: unknown): boolean {
  if (error instanceof MlflowApiError) return RETRYABLE_STATUSES.has(error.status);
  return error instanceof TrackingError && (error.code === 'UNREACHABLE' || error.code === 'NETWORK_ERROR');
}

/** True when the failed call certainly did not reach the server's store (safe to resend as is). */
export function certainlyNotApplied(error: unknown): boolean {
  if (error instanceof MlflowApiError) return NOT_APPLIED_STATUSES.has(error.status);
  return error instanceof TrackingError && error.code === 'UNREACHABLE';
}
