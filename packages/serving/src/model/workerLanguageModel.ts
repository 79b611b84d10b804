import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { BackendChoice } from '@deepline/core';
import type { DecodeStep, LanguageModel, ModelSequence, NextToken, PrefillChunk } from '../engine/languageModel.js';
import { ServingError } from '../errors.js';
import type { WorkerModelSource, WorkerReply, WorkerRequest } from './workerProtocol.js';

export type { WorkerModelSource } from './workerProtocol.js';

/** Options of {@link WorkerLanguageModel.start}. */
export interface WorkerLanguageModelOptions {
  /** The model the worker loads (a directory, or a random-weight config). */
  source: WorkerModelSource;
  /** The worker's tfjs backend (default: initBackend's choice). */
  backend?: BackendChoice;
  /** URL of a module whose default export the worker runs before starting its backend (e.g. kernel registration). */
  setup?: string;
}

/** A sequence whose KV cache lives in the worker. */
class WorkerSequence implements ModelSequence {
  length = 0;
  disposed = false;
  constructor(
    readonly id: number,
    private readonly owner: WorkerLanguageModel,
  ) {}
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.owner.post({ kind: 'dispose', request: 0, id: this.id });
  }
}

/** The worker entry: built, modelWorker.js beside this bundle; from source, a tsx bootstrap. */
function workerEntry(): { url: URL; options: WorkerOptions } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./modelWorker.js', import.meta.url), options: {} };
  return { url: new URL('./modelWorkerSource.mjs', import.meta.url), options: { execArgv: ['--conditions=source'] } };
}

/**
 * A DeepSeek model served from a worker thread. The engine's event loop then only
 * schedules and streams: while the worker runs step N, the main thread writes step N−1's
 * tokens to the sockets and reads new requests, which a model on the main thread would
 * serialise with the forward pass. Same `LanguageModel` contract as DeepseekLanguageModel.
 */
export class WorkerLanguageModel implements LanguageModel {
  readonly concurrent = true;
  private nextRequest = 1;
  private nextSequence = 1;
  private readonly pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly vocabSize: number,
    readonly contextLength: number,
    readonly kvBytesPerToken: number,
  ) {}

  /** Starts the worker and loads the model there. */
  static async start(options: WorkerLanguageModelOptions): Promise<WorkerLanguageModel> {
    const entry = workerEntry();
    const worker = new Worker(entry.url, entry.options);
    const started = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ kind: 'start', request: 0, source: options.source, backend: options.backend, setup: options.setup } satisfies WorkerRequest);
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    });
    if (started.kind !== 'started') {
      await worker.terminate();
      throw new ServingError(`model worker failed to start: ${started.kind === 'error' ? started.message : started.kind}`, {
        code: 'model_worker',
        context: { status: 500, type: 'server_error' },
      });
    }
    const lm = new WorkerLanguageModel(worker, started.vocabSize, started.contextLength, started.kvBytesPerToken);
    worker.on('message', (reply: WorkerReply & { request: number }) => lm.settle(reply));
    worker.on('error', (error) => lm.abort(error));
    worker.on('exit', (code) => lm.abort(new Error(`model worker exited with code ${code}`)));
    return lm;
  }

  createSequence(): ModelSequence {
    return new WorkerSequence(this.nextSequence++, this);
  }

  prefill(chunks: ReadonlyArray<PrefillChunk>): Promise<NextToken[]> {
    return this.run(chunks, []);
  }

  decode(steps: ReadonlyArray<DecodeStep>): Promise<NextToken[]> {
    return this.run([], steps);
  }

  async step(chunks: ReadonlyArray<PrefillChunk>, steps: ReadonlyArray<DecodeStep>): Promise<{ prefill: NextToken[]; decode: NextToken[] }> {
    const out = await this.run(chunks, steps);
    return { prefill: out.slice(0, chunks.length), decode: out.slice(chunks.length) };
  }

  /** Frees the model in the worker and stops it. */
  async close(): Promise<void> {
    if (!this.failure) await this.call({ kind: 'close', request: 0 }).catch(() => {});
    this.failure ??= new Error('model worker closed');
    await this.worker.terminate();
  }

  /** Sends a message that needs no answer. */
  post(message: WorkerRequest): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  private async run(chunks: ReadonlyArray<PrefillChunk>, steps: ReadonlyArray<DecodeStep>): Promise<NextToken[]> {
    const seq = (s: ModelSequence) => s as WorkerSequence;
    const rows = [...chunks.map((c) => ({ s: seq(c.sequence), n: c.tokens.length })), ...steps.map((d) => ({ s: seq(d.sequence), n: 1 }))];
    for (const { s, n } of rows) {
      if (s.disposed) throw new ServingError('sequence used after dispose', { code: 'internal', context: { status: 500, type: 'server_error' } });
      if (s.length + n > this.contextLength) {
        throw new ServingError(`sequence would exceed the ${this.contextLength}-token context`, { code: 'context_length_exceeded', context: { status: 400, type: 'invalid_request_error' } });
      }
    }
    const reply = await this.call({
      kind: 'run',
      request: 0,
      chunks: chunks.map((c) => ({ id: seq(c.sequence).id, tokens: c.tokens, greedy: c.greedy })),
      steps: steps.map((d) => ({ id: seq(d.sequence).id, token: d.token, greedy: d.greedy })),
    });
    if (reply.kind !== 'results') throw new ServingError(`model worker: ${reply.kind === 'error' ? reply.message : reply.kind}`, { code: 'internal', context: { status: 500, type: 'server_error' } });
    for (const c of chunks) seq(c.sequence).length += c.tokens.length;
    for (const d of steps) seq(d.sequence).length += 1;
    return reply.results;
  }

  private call(message: WorkerRequest): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(request, { resolve, reject });
      this.worker.postMessage({ ...message, request });
    });
  }

  private settle(reply: WorkerReply & { request: number }): void {
    const waiter = this.pending.get(reply.request);
    if (!waiter) return;
    this.pending.delete(reply.request);
    waiter.resolve(reply);
  }

  private abort(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}
