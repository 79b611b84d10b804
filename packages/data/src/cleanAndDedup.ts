import { availableParallelism } from 'node:os';
import { validateConfig } from '@deepline/core';
import { type Cleaner, createCleaner } from './clean/cleaner.js';
import { type CleanConfigInput, type DedupConfig, type DedupConfigInput, dedupConfigSchema } from './config.js';
import { type DedupKeys, Deduplicator } from './dedup/deduplicator.js';
import { DataReport } from './report.js';
import type { Document, TextTokenizer } from './types.js';
import type { BatchResult } from './workers/protocol.js';
import { WorkerPool } from './workers/workerPool.js';

export interface CleanAndDedupOptions {
  documents: AsyncIterable<Document> | Iterable<Document>;
  /** Cleaning stage options (default: the full default chain); false skips cleaning. */
  clean?: CleanConfigInput | false;
  /** Dedup options (default: exact + MinHash 14 × 8); false skips dedup. */
  dedup?: DedupConfigInput | false;
  /** Needed only for `clean.tokenLength`. */
  tokenizer?: TextTokenizer;
  /** Worker threads for cleaning and hashing (default min(2, cores)); 0 runs everything on this thread. */
  workers?: number;
  /** Documents per worker batch (default 32). */
  batchSize?: number;
  report?: DataReport;
}

/**
 * The default data chain: clean → dedup → (token length). Text stages and dedup hashing run in
 * worker threads; the dedup index and token-length control run here, in input order, so the
 * output is the same whatever the worker count. At most `2 × workers` batches are in flight,
 * which bounds memory.
 */
export async function* cleanAndDedup(options: CleanAndDedupOptions): AsyncGenerator<Document> {
  const report = options.report ?? new DataReport();
  const dedupConfig: DedupConfig | false =
    options.dedup === false ? false : validateConfig({ value: options.dedup ?? {}, schema: dedupConfigSchema, source: 'dedup config' });
  const dedup = dedupConfig === false ? undefined : new Deduplicator({ ...dedupConfig, report });
  const tokenStage =
    options.clean === false ? undefined : await createCleaner({ config: options.clean, tokenizer: options.tokenizer, report, part: 'tokens' });
  const workers = options.workers ?? Math.min(2, availableParallelism());
  const finish = function* (doc: Document, keys: DedupKeys | undefined): Generator<Document> {
    if (dedup && !dedup.check(doc, keys)) return;
    const out = tokenStage && tokenStage.stages.length > 0 ? tokenStage.process(doc) : [doc];
    for (const d of out) {
      report.addOutput(d.text.length);
      yield d;
    }
  };
  if (workers <= 0) {
    const cleaner: Cleaner | undefined =
      options.clean === false ? undefined : await createCleaner({ config: options.clean, report, part: 'text' });
    for await (const doc of options.documents) {
      for (const d of cleaner ? cleaner.process(doc) : [doc]) yield* finish(d, dedup?.keysFor(d.text));
    }
    return;
  }
  const pool = await WorkerPool.start({ size: workers, init: { clean: options.clean ?? {}, dedup: dedupConfig } });
  const inFlight: Array<Promise<BatchResult>> = [];
  const batchSize = options.batchSize ?? 32;
  const drain = function* (result: BatchResult): Generator<Document> {
    report.mergeStages(result.stages);
    for (const item of result.items) yield* finish(item.doc, { exact: item.exact, signature: item.signature });
  };
  try {
    let batch: Document[] = [];
    for await (const doc of options.documents) {
      batch.push(doc);
      if (batch.length < batchSize) continue;
      inFlight.push(pool.run(batch));
      batch = [];
      if (inFlight.length >= workers * 2) yield* drain(await inFlight.shift()!);
    }
    if (batch.length > 0) inFlight.push(pool.run(batch));
    while (inFlight.length > 0) yield* drain(await inFlight.shift()!);
  } finally {
    await pool.close();
  }
}
