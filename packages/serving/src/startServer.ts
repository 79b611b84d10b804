import cluster from 'node:cluster';
import { readFile } from 'node:fs/promises';
import { type BackendChoice, createLogger, initBackend } from '@deepline/core';
import { type ResponseCache, createResponseCache } from './cache/responseCache.js';
import type { EngineOptions } from './engine/engine.js';
import { BlocklistFilter } from './filters/contentFilter.js';
import { ServingServer } from './http/server.js';
import { loadServedModel } from './model/loadServedModel.js';

export interface StartServerOptions {
  /** HF-style model directory. */
  modelDir: string;
  /** Name served under (default: the directory name). */
  modelName?: string;
  port?: number;
  /** Interface to bind (default 127.0.0.1; use 0.0.0.0 in a container). */
  host?: string;
  apiKey?: string;
  /** Processes serving the port (node:cluster); each loads its own copy of the model. Default 1. */
  workers?: number;
  backend?: BackendChoice;
  /** Cache deterministic responses: in memory, or in Redis when REDIS_URL is set. */
  responseCache?: boolean;
  /** Blocklist file (one phrase per line, `re:` for regexes) for the input/output filter. */
  blocklistFile?: string;
  maxBodyBytes?: number;
  maxPromptTokens?: number;
  requestTimeoutMs?: number;
  engine?: Omit<EngineOptions, 'model' | 'decode' | 'metrics'>;
  /** Stop gracefully on SIGTERM/SIGINT (default true). */
  handleSignals?: boolean;
  /** Progress lines ("listening on …"). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  /** Graceful stop: no new connections, in-flight requests finish, then exit. */
  close(): Promise<void>;
  /** Resolves when the server has stopped (after close or a signal). */
  closed: Promise<void>;
}

/**
 * Starts `deepline serve`: one process, or with `workers > 1` a cluster primary that forks
 * workers sharing the port (each re-runs the same entry point and lands in the single
 * process path below).
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const workers = options.workers ?? 1;
  if (workers > 1 && cluster.isPrimary) return startPrimary(options, workers);
  return startSingle(options);
}

async function startSingle(options: StartServerOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  await initBackend({ backend: options.backend });
  let responseCache: ResponseCache | undefined;
  if (options.responseCache) responseCache = createResponseCache();
  const filter = options.blocklistFile ? BlocklistFilter.fromText(await readFile(options.blocklistFile, 'utf8')) : undefined;
  const model = loadServedModel({ dir: options.modelDir, name: options.modelName });
  const server = new ServingServer({
    model,
    apiKey: options.apiKey,
    maxBodyBytes: options.maxBodyBytes,
    maxPromptTokens: options.maxPromptTokens,
    requestTimeoutMs: options.requestTimeoutMs,
    engine: options.engine,
    responseCache,
    filter,
    logger: createLogger({ scope: 'serve' }),
  });
  const url = await server.listen({ port: options.port ?? 8000, host: options.host });
  await server.whenReady().catch(async (error) => {
    await server.close();
    throw error;
  });
  log(`serving ${(await model).name} on ${url}${cluster.isWorker ? ` (worker ${cluster.worker?.id})` : ''}`);
  // Tell the primary this worker's model is loaded (it reports ready once all are).
  if (cluster.isWorker) process.send?.({ type: 'deepline-ready' });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= server.close().then(resolveClosed);
    return closing;
  };
  if (options.handleSignals ?? true) {
    const onSignal = () => {
      log('shutting down: finishing in-flight requests');
      void close();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    if (cluster.isWorker) process.on('disconnect', onSignal);
  }
  return { url, close, closed };
}

async function startPrimary(options: StartServerOptions, workers: number): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  let stopping = false;
  // Until every worker is ready, a stop request just ends the workers (the primary then exits).
  let close: () => Promise<void> = async () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
  };
  if (options.handleSignals ?? true) {
    // Installed before forking so a signal during start-up still stops cleanly.
    const onSignal = () => void close();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  const forked = Array.from({ length: workers }, () => cluster.fork());
  const started = new Promise<string>((resolve, reject) => {
    let listening = 0;
    let ready = 0;
    let port = 0;
    const check = () => {
      if (listening >= workers && ready >= workers) resolve(`http://${options.host ?? '127.0.0.1'}:${port}`);
    };
    cluster.on('listening', (_worker, address) => {
      listening++;
      port = address.port;
      check();
    });
    cluster.on('message', (_worker, message: { type?: string }) => {
      if (message?.type !== 'deepline-ready') return;
      ready++;
      check();
    });
    cluster.on('exit', (worker, code) => {
      if (stopping) return;
      if (ready < workers) reject(new Error(`worker ${worker.id} exited with code ${code} before its model was ready`));
      else {
        log(`worker ${worker.id} exited (${code}); starting a replacement`);
        forked.push(cluster.fork());
      }
    });
  });
  let url: string;
  try {
    url = await started;
  } catch (error) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    throw error;
  }
  log(`${workers} workers serving on ${url}`);
  const closed = new Promise<void>((resolve) => {
    cluster.on('exit', () => {
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) resolve();
    });
  });
  close = async () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.disconnect();
    await closed;
  };
  return { url, close: () => close(), closed };
}
