import { resolve } from 'node:path';
import { connectionFromEnv, type RetryOptions } from './env.js';
import { TrackingError } from './errors.js';
import { FileStore } from './fileStore.js';
import { RestStore } from './restStore.js';
import type { TrackingStore } from './store.js';

export interface OpenStoreOptions {
  /** `http(s)://…` → REST; a path or `file:` URI → local mlruns store. Default: MLFLOW_TRACKING_URI, else `./mlruns`. */
  uri?: string;
  /** Environment to read MLFLOW_* settings from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Overrides of the MLFLOW_HTTP_* retry settings. */
  retry?: Partial<RetryOptions>;
}

/** The tracking URI in effect: the option, else MLFLOW_TRACKING_URI, else `./mlruns`. */
export function resolveTrackingUri(options: OpenStoreOptions = {}): string {
  const env = options.env ?? process.env;
  return options.uri || env.MLFLOW_TRACKING_URI || resolve('mlruns');
}

/** Opens the store a tracking URI names. */
export function openStore(options: OpenStoreOptions = {}): TrackingStore {
  const uri = resolveTrackingUri(options);
  if (/^https?:\/\//i.test(uri)) return new RestStore(connectionFromEnv(uri, options.env ?? process.env, options.retry));
  if (uri.startsWith('file:') || !/^[a-z][a-z0-9+.-]+:/i.test(uri)) return new FileStore({ root: uri });
  throw new TrackingError(`unsupported tracking URI '${uri}': use http(s)://host:port for an MLflow server, or a directory path for the local mlruns store`, {
    code: 'UNSUPPORTED_URI',
    context: { field: 'MLFLOW_TRACKING_URI' },
  });
}
