import { parentPort, workerData } from 'node:worker_threads';
import { buildTextStages } from '../clean/buildTextStages.js';
import { Cleaner } from '../clean/cleaner.js';
import { dedupWordHashes, exactKeyFromHashes } from '../dedup/dedupText.js';
import { buildMinHasher } from '../dedup/minhashFamily.js';
import { DataReport } from '../report.js';
import { loadTextKernels } from '../textKernels.js';
import type { BatchRequest, BatchResult, WorkerInit } from './protocol.js';

// Worker side of the pipeline: cleans a batch of documents and computes their dedup hashes.
// The main thread keeps the (sequential) dedup index so results stay deterministic. Only
// light modules are imported here (no zod, no @deepline/core), so a worker boots quickly.
const init = workerData as WorkerInit;
const port = parentPort!;

async function main(): Promise<void> {
  // The main thread's kernels; where they fail to load here, the JavaScript gives the same results.
  if (init.textKernels) loadTextKernels(init.textKernels);
  const stages = init.clean === false ? undefined : await buildTextStages(init.clean);
  const dedup = init.dedup === false ? undefined : init.dedup;
  const hasher = dedup && dedup.minhash !== false ? buildMinHasher(dedup.minhash) : undefined;
  port.on('message', (request: BatchRequest) => {
    const report = new DataReport({ maxSamples: 5 });
    const cleaner = stages ? new Cleaner({ stages, report }) : undefined;
    const items: BatchResult['items'] = [];
    for (const d of cleaner ? cleaner.processBatch(request.docs) : request.docs) {
      if (!dedup) {
        items.push({ doc: d });
        continue;
      }
      const hashes = dedupWordHashes(d.text);
      items.push({
        doc: d,
        exact: dedup.exact ? exactKeyFromHashes(hashes) : undefined,
        signature: hasher?.signatureOfHashes(hashes),
      });
    }
    const result: BatchResult = { id: request.id, items, stages: report.toJSON().stages };
    port.postMessage(result);
  });
  port.postMessage({ ready: true });
}

main().catch((error: unknown) => port.postMessage({ error: (error as Error).message }));
