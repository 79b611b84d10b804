import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BATCH_LIMITS, type BatchLimits, splitBatch } from './batching.js';
import { decodeDouble, encodeDouble } from './encoding.js';
import { TrackingError } from './errors.js';
import { certainlyNotApplied, isTransient } from './restTransport.js';
import type { TrackingStore } from './store.js';
import type { LogBatch, Metric } from './types.js';

/** Tuning of the background sender. */
export interface RunLoggerOptions {
  store: TrackingStore;
  runId: string;
  /** How often buffered data is sent (ms). Default 1000. */
  flushIntervalMs?: number;
  /** Metric points kept in memory before older ones are spilled to disk. Default 100 000. */
  maxBufferedMetrics?: number;
  /** Directory for spilled points (created on first spill). */
  spillDir: string;
  /** First wait after a failed send while the server is down (ms), doubled up to `maxOutageBackoffMs`. Default 1000. */
  outageBackoffMs?: number;
  maxOutageBackoffMs?: number;
  limits?: BatchLimits;
  /** Called for data the server rejected for good (e.g. a changed param value). */
  onError?: (error: TrackingError) => void;
}

/** Counters of a RunLogger, for reports and tests. */
export interface RunLoggerStats {
  /** Metric points, params and tags acknowledged by the store. */
  sent: number;
  /** Entities still waiting (memory + disk). */
  pending: number;
  /** Entities that went to disk because memory was full or the run ended during an outage. */
  spilled: number;
  /** Requests that failed and were kept for a later attempt. */
  failedAttempts: number;
  /** Entities the server refused for good (reported through onError). */
  rejected: number;
}

type SpillRecord = ['m', string, number | string, number, number] | ['p' | 't', string, string];
const toRecord = (m: Metric): SpillRecord => ['m', m.key, encodeDouble(m.value), m.timestamp, m.step];

/**
 * Buffers metrics, params and tags and sends them in the background in batches within the
 * server's limits, so a training step never waits on the network. While the server is
 * down everything is kept: in memory up to `maxBufferedMetrics` points, then spilled to
 * JSONL files on disk, oldest first; all of it is resent in order when the server returns.
 */
export class RunLogger {
  private readonly options: Required<Omit<RunLoggerOptions, 'onError' | 'limits'>> & Pick<RunLoggerOptions, 'onError'> & { limits: BatchLimits };
  private memory: Metric[] = [];
  private params: Record<string, string> = {};
  private tags: Record<string, string> = {};
  /** Points being sent now: a loaded spill chunk, or the oldest points taken from memory. */
  private outbox: Metric[] = [];
  private outboxFile?: string;
  private readonly spillFiles: string[] = [];
  private spillSeq = 0;
  private verifyFirst = false;
  private draining?: Promise<void>;
  private nextAttemptAt = 0;
  private backoffMs: number;
  private timer?: NodeJS.Timeout;
  private closed = false;
  readonly stats: RunLoggerStats = { sent: 0, pending: 0, spilled: 0, failedAttempts: 0, rejected: 0 };
  /** The last transient failure, while the server is unreachable; cleared by a success. */
  lastFailure?: Error;

  constructor(options: RunLoggerOptions) {
    this.options = {
      flushIntervalMs: 1000,
      maxBufferedMetrics: 100_000,
      outageBackoffMs: 1000,
      maxOutageBackoffMs: 30_000,
      limits: DEFAULT_BATCH_LIMITS,
      // Explicit `undefined`s (options passed through from createTracker) keep the defaults.
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as RunLogger['options'];
    this.backoffMs = this.options.outageBackoffMs;
    this.adoptSpillFiles();
    this.timer = setInterval(() => this.tick(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  get spillDirPath(): string {
    return this.options.spillDir;
  }

  /** Picks up spill files a previous process left in `spillDir` (see replaySpill). */
  private adoptSpillFiles(): void {
    if (!existsSync(this.options.spillDir)) return;
    const files = readdirSync(this.options.spillDir).filter((f) => /^spill-\d+\.jsonl$/.test(f)).sort();
    for (const f of files) this.spillFiles.push(join(this.options.spillDir, f));
    this.spillSeq = files.length === 0 ? 0 : Number(/\d+/.exec(files[files.length - 1]!)![0]);
    for (const f of this.spillFiles) this.stats.pending += readFileSync(f, 'utf8').split('\n').filter(Boolean).length;
  }

  /** Queues data; returns at once. */
  enqueue(batch: Partial<LogBatch>): void {
    if (this.closed) throw new TrackingError('run already ended: cannot log more data', { code: 'RUN_ENDED', context: {} });
    Object.assign(this.params, batch.params);
    Object.assign(this.tags, batch.tags);
    if (batch.metrics) for (const m of batch.metrics) this.memory.push(m);
    this.stats.pending += (batch.metrics?.length ?? 0) + Object.keys(batch.params ?? {}).length + Object.keys(batch.tags ?? {}).length;
    if (this.memory.length > this.options.maxBufferedMetrics) this.spillOldest();
    if (this.memory.length >= this.options.limits.metrics && Date.now() >= this.nextAttemptAt) setImmediate(() => this.tick());
  }

  private spillOldest(): void {
    const count = Math.ceil(this.options.maxBufferedMetrics / 2);
    this.writeSpill(this.memory.splice(0, count).map(toRecord));
  }

  private writeSpill(records: SpillRecord[]): string | undefined {
    if (records.length === 0) return undefined;
    mkdirSync(this.options.spillDir, { recursive: true });
    const file = join(this.options.spillDir, `spill-${String(++this.spillSeq).padStart(6, '0')}.jsonl`);
    appendFileSync(file, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    this.spillFiles.push(file);
    this.stats.spilled += records.length;
    return file;
  }

  private tick(): void {
    if (this.draining || Date.now() < this.nextAttemptAt || !this.hasWork()) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private hasWork(): boolean {
    return this.outbox.length + this.memory.length + this.spillFiles.length + Object.keys(this.params).length + Object.keys(this.tags).length > 0;
  }

  /** Fills the outbox from the oldest source: spill files first, then memory. */
  private refillOutbox(): void {
    if (this.outbox.length > 0) return;
    if (this.outboxFile) {
      rmSync(this.outboxFile, { force: true });
      this.outboxFile = undefined;
    }
    const file = this.spillFiles.shift();
    if (file) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line === '') continue;
        const r = JSON.parse(line) as SpillRecord;
        if (r[0] === 'm') this.outbox.push({ key: r[1], value: decodeDouble(r[2]), timestamp: r[3], step: r[4] });
        else if (r[0] === 'p') this.params[r[1]] ??= r[2];
        else this.tags[r[1]] ??= r[2];
      }
      this.outboxFile = file;
      return;
    }
    this.outbox = this.memory.splice(0, Math.max(this.options.limits.metrics, Math.ceil(this.options.maxBufferedMetrics / 2)));
  }

  /** Sends until everything is out or a send fails; failures schedule a later attempt. */
  private async drain(): Promise<void> {
    while (true) {
      this.refillOutbox();
      const candidate: LogBatch = { params: this.params, tags: this.tags, metrics: this.outbox.slice(0, this.options.limits.metrics) };
      const request = splitBatch(candidate, this.options.limits)[0];
      if (!request) return;
      try {
        await this.options.store.logBatch(this.options.runId, request, { verifyFirst: this.verifyFirst && request.metrics.length > 0 });
      } catch (error) {
        if (this.handleFailure(error, request)) return;
      }
      this.commit(request);
    }
  }

  /** Returns true when the request stays queued (transient failure). */
  private handleFailure(error: unknown, request: LogBatch): boolean {
    const transient = isTransient(error) || (error instanceof TrackingError && error.code === 'AMBIGUOUS_WRITE');
    if (transient) {
      this.stats.failedAttempts++;
      this.lastFailure = error as Error;
      if (request.metrics.length > 0 && !certainlyNotApplied(error)) this.verifyFirst = true;
      this.nextAttemptAt = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.options.maxOutageBackoffMs, this.backoffMs * 2);
      return true;
    }
    const wrapped = error instanceof TrackingError ? error : new TrackingError(String((error as Error)?.message ?? error), { code: 'LOG_FAILED', context: {}, cause: error });
    this.stats.rejected += request.metrics.length + Object.keys(request.params).length + Object.keys(request.tags).length;
    this.options.onError?.(wrapped);
    return false;
  }

  private commit(request: LogBatch): void {
    for (const [k, v] of Object.entries(request.params)) if (this.params[k] === v) delete this.params[k];
    for (const [k, v] of Object.entries(request.tags)) if (this.tags[k] === v) delete this.tags[k];
    this.outbox.splice(0, request.metrics.length);
    const n = request.metrics.length + Object.keys(request.params).length + Object.keys(request.tags).length;
    this.stats.sent += n;
    this.stats.pending = Math.max(0, this.stats.pending - n);
    this.verifyFirst = false;
    this.lastFailure = undefined;
    this.nextAttemptAt = 0;
    this.backoffMs = this.options.outageBackoffMs;
  }

  /**
   * Sends everything now, retrying through outages until `timeoutMs` passes.
   * Resolves true when nothing is left.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<boolean> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (true) {
      if (this.draining) await this.draining;
      if (!this.hasWork()) return true;
      const wait = Math.max(0, this.nextAttemptAt - Date.now());
      if (Date.now() + wait > deadline) return false;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.tick();
    }
  }

  /**
   * Flushes, stops the timer, and if the server is still down writes whatever is left to
   * `spillDir` (replaySpill sends it later). Nothing is dropped.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<{ pending: number; spillDir?: string }> {
    const done = await this.flush(options);
    this.closed = true;
    clearInterval(this.timer);
    if (this.draining) await this.draining;
    if (done && !this.hasWork()) return { pending: 0 };
    // Order on disk = order of logging: params/tags and the outbox, older spill chunks, then memory.
    const head: SpillRecord[] = [
      ...Object.entries(this.params).map(([k, v]): SpillRecord => ['p', k, v]),
      ...Object.entries(this.tags).map(([k, v]): SpillRecord => ['t', k, v]),
      ...this.outbox.map(toRecord),
    ];
    if (this.outboxFile) rmSync(this.outboxFile, { force: true });
    const staged = this.spillFiles.splice(0).map((file, i) => {
      const temp = join(this.options.spillDir, `staged-${i}.tmp`);
      renameSync(file, temp);
      return temp;
    });
    this.spillSeq = 0;
    this.writeSpill(head);
    for (const temp of staged) {
      const file = join(this.options.spillDir, `spill-${String(++this.spillSeq).padStart(6, '0')}.jsonl`);
      renameSync(temp, file);
      this.spillFiles.push(file);
    }
    this.writeSpill(this.memory.map(toRecord));
    const pending = this.spillFiles.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').filter(Boolean).length, 0);
    this.outbox = [];
    this.outboxFile = undefined;
    this.memory = [];
    this.params = {};
    this.tags = {};
    this.stats.pending = pending;
    return { pending, spillDir: this.options.spillDir };
  }
}
