import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TrackingError } from './errors.js';

/** How requests are retried (defaults mirror the Python client's environment variables). */
export interface RetryOptions {
  /** Retries after the first attempt (MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7). */
  maxRetries: number;
  /** Exponential backoff base in ms: delay = factor · 2^(attempt-1) (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, default 2 s). */
  backoffFactorMs: number;
  /** Random extra delay up to this many ms (MLFLOW_HTTP_REQUEST_BACKOFF_JITTER, default 1 s). */
  backoffJitterMs: number;
  /** One sleep never exceeds this (120 s, as urllib3). */
  maxBackoffMs: number;
  /** Honour the server's Retry-After header (MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER, default true). */
  respectRetryAfter: boolean;
  /** Per-request timeout in ms (MLFLOW_HTTP_REQUEST_TIMEOUT, default 120 s). */
  timeoutMs: number;
}

/** Connection settings for an MLflow tracking server. */
export interface ConnectionOptions {
  /** Base URI, e.g. `http://127.0.0.1:5000`. */
  uri: string;
  /** Full Authorization header value (Basic or Bearer). */
  authorization?: string;
  /** Skip TLS certificate verification (MLFLOW_TRACKING_INSECURE_TLS). */
  insecureTls?: boolean;
  /** PEM CA bundle path (MLFLOW_TRACKING_SERVER_CERT_PATH). */
  caCertPath?: string;
  /** PEM client certificate (and key) path (MLFLOW_TRACKING_CLIENT_CERT_PATH). */
  clientCertPath?: string;
  retry?: Partial<RetryOptions>;
}

type Env = Record<string, string | undefined>;

function envNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new TrackingError(`${name} must be a non-negative number, got '${raw}'`, { code: 'INVALID_ENV', context: { field: name } });
  }
  return value;
}

function envBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new TrackingError(`${name} must be true or false, got '${env[name]}'`, { code: 'INVALID_ENV', context: { field: name } });
}

/** Retry settings from the MLFLOW_HTTP_* variables, overridden by `overrides`. */
export function retryOptionsFromEnv(env: Env = process.env, overrides: Partial<RetryOptions> = {}): RetryOptions {
  return {
    maxRetries: envNumber(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', 7),
    backoffFactorMs: envNumber(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', 2) * 1000,
    backoffJitterMs: envNumber(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', 1) * 1000,
    maxBackoffMs: 120_000,
    respectRetryAfter: envBool(env, 'MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER', true),
    timeoutMs: envNumber(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT', 120) * 1000,
    ...overrides,
  };
}

/** Reads `[mlflow]` credentials from ~/.mlflow/credentials (the Python client's fallback). */
function credentialsFile(home: string): { username?: string; password?: string } {
  let text: string;
  try {
    text = readFileSync(join(home, '.mlflow', 'credentials'), 'utf8');
  } catch {
    return {};
  }
  const out: { username?: string; password?: string } = {};
  let inSection = false;
  for (const line of text.split(/\r?\n/)) {
    const section = /^\s*\[(.+)\]\s*$/.exec(line);
    if (section) {
      inSection = section[1]!.trim() === 'mlflow';
      continue;
    }
    const kv = /^\s*([^=#;]+?)\s*=\s*(.*?)\s*$/.exec(line);
    if (!inSection || !kv) continue;
    if (kv[1] === 'mlflow_tracking_username') out.username = kv[2];
    if (kv[1] === 'mlflow_tracking_password') out.password = kv[2];
  }
  return out;
}

/**
 * The Authorization header the Python client would send: Basic when username and password
 * are both set (env, else ~/.mlflow/credentials), else Bearer MLFLOW_TRACKING_TOKEN.
 */
export function authorizationFromEnv(env: Env = process.env, home: string = homedir()): string | undefined {
  const file = env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD ? {} : credentialsFile(home);
  const username = env.MLFLOW_TRACKING_USERNAME || file.username;
  const password = env.MLFLOW_TRACKING_PASSWORD || file.password;
  if (username && password) return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  if (env.MLFLOW_TRACKING_TOKEN) return `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  return undefined;
}

/** Connection options for `uri` from the MLFLOW_* environment variables. */
export function connectionFromEnv(uri: string, env: Env = process.env, retry: Partial<RetryOptions> = {}): ConnectionOptions {
  return {
    uri: uri.replace(/\/+$/, ''),
    authorization: authorizationFromEnv(env),
    insecureTls: envBool(env, 'MLFLOW_TRACKING_INSECURE_TLS', false),
    caCertPath: env.MLFLOW_TRACKING_SERVER_CERT_PATH || undefined,
    clientCertPath: env.MLFLOW_TRACKING_CLIENT_CERT_PATH || undefined,
    retry: retryOptionsFromEnv(env, retry),
  };
}
