import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataReport, type Document, augmentDocuments, cleanAndDedup, readDocuments } from '@deepline/data';
import type { PipelineConfig } from '../config.js';
import { writeJsonl } from '../jsonl.js';
import { sotuInputs } from '../sotuCorpus.js';
import type { Stage } from '../stage.js';

export const DOCUMENTS_FILE = 'documents.jsonl';

async function* take(documents: AsyncIterable<Document>, limit: number | undefined): AsyncGenerator<Document> {
  const iterator = documents[Symbol.asyncIterator]();
  // Check the limit before pulling, so the reader never reads (and counts) a document we drop.
  for (let count = 0; limit === undefined || count < limit; count++) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
  await iterator.return?.();
}

/** Reads the corpus, cleans and deduplicates it (optionally augments), and writes JSON lines. */
export const dataStage: Stage<PipelineConfig> = {
  name: 'data',
  description: 'read, clean and deduplicate the corpus',
  dependsOn: [],
  configSlice: (c) => ({ data: c.data, seed: c.seed }),
  params: (c) => ({
    inputs: c.data.inputs === 'sotu' ? 'sotu' : c.data.inputs.join(','),
    max_documents: c.data.maxDocuments ?? 0,
    clean: c.data.clean !== false,
    dedup: c.data.dedup !== false,
    augment: c.data.augment.enabled,
  }),
  async run({ config, dir, logger }) {
    const report = new DataReport();
    const inputs = config.data.inputs === 'sotu' ? sotuInputs() : config.data.inputs;
    const raw = take(readDocuments({ inputs, report }), config.data.maxDocuments);
    let documents: AsyncIterable<Document> = cleanAndDedup({
      documents: raw,
      clean: config.data.clean === false ? false : (config.data.clean as never),
      dedup: config.data.dedup === false ? false : (config.data.dedup as never),
      report,
    });
    if (config.data.augment.enabled) {
      const { copies, swapRate, deletionRate } = config.data.augment;
      documents = augmentDocuments({ documents, copies, swapRate, deletionRate, seed: config.seed });
    }
    const kept = await writeJsonl(
      join(dir, DOCUMENTS_FILE),
      (async function* () {
        for await (const doc of documents) yield { id: doc.id, text: doc.text };
      })(),
    );
    const json = report.toJSON();
    await writeFile(join(dir, 'data-report.json'), `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(join(dir, 'data-summary.txt'), `${report.summary()}\n`);
    logger.info(report.summary());
    return {
      outputs: { documents: DOCUMENTS_FILE, written: kept },
      metrics: {
        documents_in: json.input.records,
        documents_kept: json.output.documents,
        documents_dropped: json.input.records - json.output.documents,
        documents_written: kept,
        bytes_in: json.input.bytes,
        corrupt_records: json.corrupt.total,
      },
      artifacts: ['data-report.json', 'data-summary.txt'],
    };
  },
};
