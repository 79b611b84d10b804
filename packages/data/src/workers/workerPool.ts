import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataError } from '../errors.js';
import { readCachedBundle, writeCachedBundle } from './sourceWorkerCache.js';
import type { BatchRequest, BatchResult, WorkerInit } from './protocol.js';

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, { resolve: (r: BatchResult) => void; reject: (e: Error) => void }>;
  /** Set once the thread has exited; no batch is sent to it any more. */
  dead?: boolean;
}

/** How to start a worker: a script file, or (from the TypeScript sources) bundled code. */
interface WorkerEntry {
  script: URL | string;
  eval: boolean;
}

/**
 * The bundled script beside dist/index.js; or, when running from the TypeScript sources
 * (tests, `--conditions=source`), the worker bundled once per process into one CommonJS
 * script (see {@link bundleSourceWorker}).
 */
function workerEntry(): Promise<WorkerEntry> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    const file = here.endsWith('.cjs') ? './pipelineWorker.cjs' : './pipelineWorker.js';
    return Promise.resolve({ script: new URL(file, here), eval: false });
  }
  sourceWorker ??= bundleSourceWorker(here).then((code) => ({ script: code, eval: true }));
  return sourceWorker;
}

let sourceWorker: Promise<WorkerEntry> | undefined;

/**
 * Prepares the worker script ahead of starting a pool (from the TypeScript sources: reads the
 * cached bundle, or bundles it in a helper thread, ~0.1 s), so a later pool boots without
 * that wait.
 */
export function prepareWorkers(): void {
  workerEntry().catch(() => undefined);
}

/**
 * Bundles pipelineWorker.ts with esbuild (tsx's own dependency, present wherever the sources
 * run) into one script with packages left external at their resolved absolute paths, in a
 * helper thread (sourceWorkerBundler.cjs), and caches it on disk until a bundled file changes
 * (sourceWorkerCache.ts). A worker then starts from plain JavaScript: several times faster
 * than compiling the TypeScript through tsx in every thread (~0.3 s per worker).
 */
async function bundleSourceWorker(here: string): Promise<string> {
  // Under the package's node_modules, so it never reaches git or the published package.
  const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/deepline-data-worker/', here));
  const cached = readCachedBundle(cacheDir, here);
  if (cached !== undefined) return cached;
  const { code, inputs } = await bundleInThread(here);
  writeCachedBundle(cacheDir, here, code, inputs);
  return code;
}

/** Runs sourceWorkerBundler.cjs; resolves with the bundle and the absolute paths of its inputs. */
function bundleInThread(here: string): Promise<{ code: string; inputs: string[] }> {
  const require = createRequire(here);
  // Plain JavaScript: without this, a thread inherits `--import tsx` and loads tsx first.
  const bundler = new Worker(new URL('./sourceWorkerBundler.cjs', here), {
    execArgv: [],
    workerData: {
      esbuildPath: createRequire(require.resolve('tsx/esm/api')).resolve('esbuild'),
      entry: fileURLToPath(new URL('./pipelineWorker.ts', here)),
      importMetaUrl: here,
    },
  });
  return new Promise((resolve, reject) => {
    bundler.once('message', (message: { code?: string; inputs?: string[]; error?: string }) => {
      if (message.code !== undefined) resolve({ code: message.code, inputs: message.inputs ?? [] });
      else reject(new DataError(`cannot bundle the worker: ${message.error}`, WORKER_ERROR));
    });
    bundler.once('error', reject);
    // After a message this changes nothing (a settled promise stays settled).
    bundler.once('exit', (code) =>
      reject(new DataError(`the worker bundler exited (code ${code})`, WORKER_ERROR)),
    );
  });
}

const WORKER_ERROR = { code: 'WORKER', context: {} } as const;

/** A fixed set of cleaning workers; batches go to the least busy one. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  /** Resolves when every worker has built its chain; rejects if one fails to start. */
  readonly ready: Promise<void>;
  private readyFlag = false;

  private closed = false;

  /** Starts `size` workers at once; use {@link ready} (or {@link isReady}) before {@link run}. */
  constructor(options: { size: number; init: WorkerInit }) {
    this.ready = workerEntry()
      .then((entry) => {
        if (this.closed) throw new DataError('worker pool closed while starting', WORKER_ERROR);
        return Promise.all(
          Array.from({ length: options.size }, () => this.boot(entry, options.init)),
        );
      })
      .then(() => {
        this.readyFlag = true;
      });
    // Callers that never wait for readiness (e.g. closing early) must not see an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Starts one worker; resolves once it has built its chain (language model included). */
  private boot(entry: WorkerEntry, init: WorkerInit): Promise<void> {
    // The bundled source-mode script is plain JavaScript: no need to inherit `--import tsx`.
    const worker = new Worker(entry.script, {
      eval: entry.eval,
      workerData: init,
      ...(entry.eval ? { execArgv: [] } : {}),
    });
    const slot: Slot = { worker, busy: 0, pending: new Map() };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      const onFirst = (message: { ready?: boolean; error?: string }) => {
        worker.off('message', onFirst);
        if (message.ready) {
          worker.on('message', (result: BatchResult) => {
            const waiter = slot.pending.get(result.id);
            if (!waiter) return;
            slot.pending.delete(result.id);
            slot.busy--;
            waiter.resolve(result);
          });
          resolve();
          return;
        }
        // Batches already sent while it booted are handed back to their callers.
        const error = new DataError(`worker failed to start: ${message.error}`, WORKER_ERROR);
        slot.dead = true;
        for (const waiter of slot.pending.values()) waiter.reject(error);
        slot.pending.clear();
        void worker.terminate();
        reject(error);
      };
      worker.on('message', onFirst);
      worker.once('error', reject);
      worker.on('error', (error) => {
        for (const waiter of slot.pending.values()) waiter.reject(error);
        slot.pending.clear();
      });
      worker.on('exit', (code) => {
        slot.dead = true;
        reject(new DataError(`worker thread exited (code ${code})`, WORKER_ERROR));
        const error = new DataError(`worker thread exited (code ${code})`, WORKER_ERROR);
        for (const waiter of slot.pending.values()) waiter.reject(error);
        slot.pending.clear();
      });
    });
  }

  get isReady(): boolean {
    return this.readyFlag;
  }

  /** Starts a pool and waits until it is ready. */
  static async start(options: { size: number; init: WorkerInit }): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await pool.ready;
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /**
   * True when some live worker, booted or still booting, has fewer than `maxQueued` batches in
   * hand: a booting worker queues its first batches and starts on them the moment it is up,
   * instead of idling until this thread next turns its event loop to hear that it is ready.
   */
  hasCapacity(maxQueued: number): boolean {
    return this.slots.some((s) => !s.dead && s.busy < maxQueued);
  }

  /**
   * Sends one batch to the least busy live worker (booted or booting); resolves with its
   * result, or rejects if that worker fails to start or dies first.
   */
  run(docs: BatchRequest['docs']): Promise<BatchResult> {
    const live = this.slots.filter((s) => !s.dead);
    if (live.length === 0) {
      return Promise.reject(new DataError('every worker thread has exited', WORKER_ERROR));
    }
    const slot = live.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, docs } satisfies BatchRequest);
    });
  }

  /** Terminates every worker (also ones still booting). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
