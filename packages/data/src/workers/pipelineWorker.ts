import { parentPort, workerData } from 'node:worker_threads';
import { Cleaner, createCleaner } from '../clean/cleaner.js';
import type { CleanConfigInput, DedupConfig } from '../config.js';
import { Deduplicator } from '../dedup/deduplicator.js';
import { DataReport } from '../report.js';
import type { BatchRequest, BatchResult, WorkerInit } from './protocol.js';

// Worker side of the pipeline: cleans a batch of documents and computes their dedup hashes.
// The main thread keeps the (sequential) dedup index so results stay deterministic.
const init = workerData as WorkerInit;
const port = parentPort!;

async function main(): Promise<void> {
  const cleaner =
    init.clean === false
      ? undefined
      : await createCleaner({ config: init.clean as CleanConfigInput, part: 'text' });
  const hasher =
    init.dedup === false ? undefined : new Deduplicator(dedupOptions(init.dedup as DedupConfig));
  port.on('message', (request: BatchRequest) => {
    const report = new DataReport({ maxSamples: 5 });
    const batchCleaner = cleaner ? new Cleaner({ stages: cleaner.stages, report }) : undefined;
    const items: BatchResult['items'] = [];
    for (const doc of request.docs) {
      const docs = batchCleaner ? batchCleaner.process(doc) : [doc];
      for (const d of docs) {
        const keys = hasher?.keysFor(d.text);
        items.push({ doc: d, exact: keys?.exact, signature: keys?.signature });
      }
    }
    const result: BatchResult = { id: request.id, items, stages: report.toJSON().stages };
    port.postMessage(result);
  });
  port.postMessage({ ready: true });
}

function dedupOptions(config: DedupConfig) {
  return { exact: config.exact, minhash: config.minhash };
}

main().catch((error: unknown) => port.postMessage({ error: (error as Error).message }));
