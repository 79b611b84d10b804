import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataError } from '../errors.js';
import type { BatchRequest, BatchResult, WorkerInit } from './protocol.js';

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, { resolve: (r: BatchResult) => void; reject: (e: Error) => void }>;
  /** Set once the thread has exited; no batch is sent to it any more. */
  dead?: boolean;
}

/**
 * How to start a worker: the bundled script beside dist/index.js, or, when running from the
 * TypeScript sources (tests, `--conditions=source`), a small bootstrap that registers tsx in
 * the worker and then imports the .ts entry (Node 20 ignores `--import` in worker execArgv).
 */
function workerEntry(): { script: URL | string; eval: boolean; execArgv?: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    return {
      script: new URL(here.endsWith('.cjs') ? './pipelineWorker.cjs' : './pipelineWorker.js', here),
      eval: false,
    };
  }
  const api = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL('./pipelineWorker.ts', here).href;
  const script = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return { script, eval: true, execArgv: ['--conditions=source'] };
}

/** A fixed set of cleaning workers; batches go to the least busy one. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  /** Resolves when every worker has built its chain; rejects if one fails to start. */
  readonly ready: Promise<void>;
  private readyFlag = false;

  /** Starts `size` workers at once; use {@link ready} (or {@link isReady}) before {@link run}. */
  constructor(options: { size: number; init: WorkerInit }) {
    const entry = workerEntry();
    const boots = Array.from({ length: options.size }, () => {
      const worker = new Worker(entry.script, {
        eval: entry.eval,
        workerData: options.init,
        execArgv: entry.execArgv,
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
          } else
            reject(
              new DataError(`worker failed to start: ${message.error}`, {
                code: 'WORKER',
                context: {},
              }),
            );
        };
        worker.on('message', onFirst);
        worker.once('error', reject);
        worker.on('error', (error) => {
          for (const waiter of slot.pending.values()) waiter.reject(error);
          slot.pending.clear();
        });
        worker.on('exit', (code) => {
          slot.dead = true;
          const error = new DataError(`worker thread exited (code ${code})`, {
            code: 'WORKER',
            context: {},
          });
          for (const waiter of slot.pending.values()) waiter.reject(error);
          slot.pending.clear();
        });
      });
    });
    this.ready = Promise.all(boots).then(() => {
      this.readyFlag = true;
    });
    // Callers that never wait for readiness (e.g. closing early) must not see an unhandled rejection.
    this.ready.catch(() => undefined);
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

  /** Sends one batch to the least busy live worker; resolves with its result. */
  run(docs: BatchRequest['docs']): Promise<BatchResult> {
    const live = this.slots.filter((s) => !s.dead);
    if (live.length === 0) {
      return Promise.reject(
        new DataError('every worker thread has exited', { code: 'WORKER', context: {} }),
      );
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
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
