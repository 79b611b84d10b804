import { availableParallelism, loadavg } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { validateConfig } from '@deepline/core';
import { Cleaner } from './clean/cleaner.js';
import { createCleaner } from './clean/createCleaner.js';
import {
  type CleanConfig,
  type CleanConfigInput,
  cleanConfigSchema,
  type DedupConfig,
  type DedupConfigInput,
  dedupConfigSchema,
} from './config.js';
import { type DedupKeys, Deduplicator } from './dedup/deduplicator.js';
import { DataReport } from './report.js';
import { syncTextKernels } from './syncTextKernels.js';
import { activeTextKernelModule } from './textKernels.js';
import type { Document, TextTokenizer } from './types.js';
import type { BatchResult } from './workers/protocol.js';
import { WorkerPool, prepareWorkers } from './workers/workerPool.js';

export interface CleanAndDedupOptions {
  documents: AsyncIterable<Document> | Iterable<Document>;
  /** Cleaning stage options (default: the full default chain); false skips cleaning. */
  clean?: CleanConfigInput | false;
  /** Dedup options (default: exact + MinHash 14 × 8); false skips dedup. */
  dedup?: DedupConfigInput | false;
  /** Needed only for `clean.tokenLength`. */
  tokenizer?: TextTokenizer;
  /**
   * Worker threads for the text stages and dedup hashes, besides this thread (which reads,
   * keeps the dedup index and cleans a batch itself whenever every worker already has two
   * queued); 0 runs everything here. Default: {@link defaultWorkers} (one on an idle 2-core machine). The
   * output does not depend on it.
   */
  workers?: number;
  /**
   * Characters read before workers are started (default 64 K, before the first batch is
   * full). Booting a worker (tens of ms, plus its own JIT warm-up) only pays off on larger
   * inputs; small runs therefore never start them, larger ones start them at once.
   */
  workerStartChars?: number;
  /** Wait for workers to boot once started instead of working on this thread meanwhile (default false). */
  awaitWorkers?: boolean;
  /** Documents per worker batch (default 32)… */
  batchSize?: number;
  /** …or fewer, once a batch holds this many characters (default 256 K), so that corpora of long documents still spread over the workers. */
  batchChars?: number;
  report?: DataReport;
}

/**
 * The default data chain: clean → dedup → (token length). Text stages run in worker threads
 * and on this thread, which takes a whole batch itself whenever every worker has two queued;
 * the dedup index and token-length control run here, in input order, so the output is the same
 * whatever the worker count. At most `2 × workers + 6` batches are in flight, which bounds
 * memory.
 */
export async function* cleanAndDedup(options: CleanAndDedupOptions): AsyncGenerator<Document> {
  const report = options.report ?? new DataReport();
  syncTextKernels();
  const dedupConfig: DedupConfig | false =
    options.dedup === false
      ? false
      : validateConfig({
          value: options.dedup ?? {},
          schema: dedupConfigSchema,
          source: 'dedup config',
        });
  const dedup = dedupConfig === false ? undefined : new Deduplicator({ ...dedupConfig, report });
  const cleanConfig: CleanConfig | false =
    options.clean === false
      ? false
      : validateConfig({
          value: options.clean ?? {},
          schema: cleanConfigSchema,
          source: 'clean config',
        });
  const tokenStage =
    options.clean === false
      ? undefined
      : await createCleaner({
          config: cleanConfig as CleanConfig,
          tokenizer: options.tokenizer,
          report,
          part: 'tokens',
        });
  const workers = options.workers ?? defaultWorkers();
  // This thread's text stages are built when its first batch needs them: a run whose batches
  // all go to workers never builds them.
  let cleaner: Cleaner | undefined;
  const textCleaner = async (): Promise<Cleaner | undefined> => {
    if (options.clean !== false && !cleaner)
      cleaner = await createCleaner({ config: cleanConfig as CleanConfig, part: 'text' });
    return cleaner;
  };
  const finish = function* (doc: Document, keys: DedupKeys | undefined): Generator<Document> {
    if (dedup && !dedup.check(doc, keys)) return;
    const out = tokenStage && tokenStage.stages.length > 0 ? tokenStage.process(doc) : [doc];
    for (const d of out) {
      report.addOutput(d.text.length);
      yield d;
    }
  };
  /** The same work a worker does, on this thread. */
  const runInline = (docs: Document[]): BatchResult => {
    const batchReport = new DataReport({ maxSamples: report.maxSamples });
    const batchCleaner = cleaner
      ? new Cleaner({ stages: cleaner.stages, report: batchReport })
      : undefined;
    const items: BatchResult['items'] = [];
    // Stage-major over the batch first, then the dedup hashes: each loop keeps its own code
    // and tables hot.
    for (const d of batchCleaner ? batchCleaner.processBatch(docs) : docs) {
      const keys = dedup?.keysFor(d.text);
      items.push({ doc: d, exact: keys?.exact, signature: keys?.signature });
    }
    return { id: -1, items, stages: batchReport.toJSON().stages };
  };
  // Workers take a while to boot; batches are processed here until they are ready, so small
  // inputs do not wait for them and large ones lose nothing.
  let pool: WorkerPool | undefined;
  let closing = false;
  const startPool = () => {
    pool = new WorkerPool({
      size: workers,
      init: {
        textKernels: activeTextKernelModule(),
        clean: cleanConfig,
        dedup: dedupConfig && {
          exact: dedupConfig.exact,
          minhash: dedupConfig.minhash && { ...dedupConfig.minhash },
        },
      },
    });
    pool.ready.catch((error: unknown) => {
      // Robustness: without workers the run still completes on this thread; the report says why
      // (unless the run ended first and closed a pool still booting).
      if (closing) return;
      report.stage('workers').reasons[`start_failed: ${(error as Error).message}`] = 1;
    });
  };
  const startAfter = options.workerStartChars ?? 64_000;
  if (workers > 0) prepareWorkers();
  let charsSeen = 0;
  // Batches in input order; `result` is set once a batch is done (at once when run here).
  const inFlight: Array<{ promise?: Promise<BatchResult>; result?: BatchResult }> = [];
  const batchSize = options.batchSize ?? 32;
  const maxBatchChars = options.batchChars ?? 256_000;
  const drain = function* (result: BatchResult): Generator<Document> {
    report.mergeStages(result.stages);
    for (const item of result.items)
      yield* finish(item.doc, { exact: item.exact, signature: item.signature });
  };
  /** Output of the finished batches at the head of the queue, without waiting. */
  const drainDone = function* (): Generator<Document> {
    while (inFlight.length > 0 && inFlight[0]!.result) yield* drain(inFlight.shift()!.result!);
  };
  // A worker that dies (out of memory, a crash in native code) must not end the run: its
  // batch is redone on this thread and the report counts it.
  const viaWorker = (docs: Document[]) =>
    pool!.run(docs).catch((error: unknown) => {
      const stats = report.stage('workers');
      stats.reasons[`batch_failed: ${(error as Error).message}`] =
        (stats.reasons[`batch_failed: ${(error as Error).message}`] ?? 0) + 1;
      return textCleaner().then(() => runInline(docs));
    });
  // Work sharing: a batch goes to a worker with room in its queue, else it runs here, so this
  // thread never idles while the workers boot or are busy, and small runs never need them.
  const submit = async (docs: Document[]) => {
    if (!pool?.hasCapacity(2)) {
      await textCleaner();
      inFlight.push({ result: runInline(docs) });
      return;
    }
    const entry: { promise?: Promise<BatchResult>; result?: BatchResult } = {};
    entry.promise = viaWorker(docs).then((result) => {
      entry.result = result;
      return result;
    });
    inFlight.push(entry);
  };
  try {
    let batch: Document[] = [];
    let batchChars = 0;
    for await (const doc of options.documents) {
      batch.push(doc);
      batchChars += doc.text.length;
      charsSeen += doc.text.length;
      if (workers > 0 && !pool && charsSeen >= startAfter) {
        startPool();
        if (options.awaitWorkers) await pool!.ready.catch(() => undefined);
      }
      if (batch.length < batchSize && batchChars < maxBatchChars) continue;
      await submit(batch);
      batch = [];
      batchChars = 0;
      // Readers may never wait on I/O (small files are read synchronously), so give the event
      // loop a turn per batch: worker start-up and results are delivered through it.
      if (pool) await nextTurn();
      yield* drainDone();
      // Bounded memory: at most a few batches wait behind a worker batch still running.
      while (inFlight.length >= workers * 2 + 6) {
        const head = inFlight.shift()!;
        yield* drain(head.result ?? (await head.promise!));
      }
    }
    if (batch.length > 0) await submit(batch);
    while (inFlight.length > 0) {
      const head = inFlight.shift()!;
      yield* drain(head.result ?? (await head.promise!));
    }
  } finally {
    closing = true;
    await pool?.close();
  }
}

/**
 * Workers that fill the idle cores: the idle cores (cores − 1-minute load average, rounded)
 * less one for this thread, which cleans too whenever the workers' queues are full. On a
 * machine with no idle core extra threads would only add their start-up cost.
 */
export function defaultWorkers(): number {
  const cores = availableParallelism();
  const idle = Math.round(cores - (loadavg()[0] ?? 0));
  return Math.max(0, Math.min(cores - 1, idle - 1));
}
