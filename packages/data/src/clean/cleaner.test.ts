import { SeededRandom } from '@deepline/core';
import { describe, expect, it } from 'vitest';
import { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { Cleaner } from './cleaner.js';
import { gopherQualityStage } from './gopherQualityStage.js';
import { normalizeStage } from './normalizeStage.js';
import { type CleaningStage, reject } from './stage.js';
import { tokenLengthStage } from './tokenLengthStage.js';

/** A batchwise stage (like the language model): tags documents and rejects some. */
const tagger: CleaningStage = {
  name: 'tagger',
  batchwise: true,
  apply: (doc) =>
    doc.text.length % 3 === 0
      ? reject('multiple_of_three', String(doc.text.length))
      : { ...doc, meta: { ...doc.meta, tagged: true } },
};

describe('Cleaner.processBatch', () => {
  it('equals process() document by document: same output, order and report', () => {
    const rng = new SeededRandom(41);
    const words = ['the', 'of', 'and', 'budget', 'council', 'votes', 'with', 'x', 'long'];
    const docs: Document[] = Array.from({ length: 120 }, (_, d) => ({
      id: String(d),
      text: Array.from({ length: rng.int(d % 4 === 0 ? 20 : 160) }, () =>
        rng.next() < 0.1 ? '\n' : words[rng.int(words.length)],
      ).join(' '),
    }));
    const tokenizer = { encode: (t: string) => Buffer.from(t), vocabSize: 256 };
    const stages = () => [
      normalizeStage(),
      tagger,
      gopherQualityStage({ minDocWords: 10 }),
      tokenLengthStage({ tokenizer, target: 200, tolerance: 60 }),
      { ...tagger, name: 'tagger_again' },
    ];
    const one = new Cleaner({ stages: stages(), report: new DataReport({ maxSamples: 50 }) });
    const expected = docs.flatMap((d) => one.process(d));
    const batched = new Cleaner({ stages: stages(), report: new DataReport({ maxSamples: 50 }) });
    const actual = [
      ...batched.processBatch(docs.slice(0, 50)),
      ...batched.processBatch(docs.slice(50)),
    ];
    expect(actual).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
    const strip = (r: DataReport) => ({ ...r.toJSON(), elapsedMs: 0 });
    expect(strip(batched.report)).toEqual(strip(one.report));
    expect(one.report.toJSON().stages.find((s) => s.name === 'tagger')?.dropped).toBeGreaterThan(0);
  });
});
