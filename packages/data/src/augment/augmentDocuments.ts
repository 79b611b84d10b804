import { SeededRandom } from '@deepline/core';
import type { Document } from '../types.js';
import { randomDeletion, randomSwap, synonymReplacement } from './eda.js';
import type { WordNet } from './wordNet.js';

/** A user-supplied translation function (a model, a service…): nothing is faked here. */
export type TranslateFn = (text: string, options: { from: string; to: string }) => Promise<string>;

/** Translates to `pivot` and back, producing a paraphrase. */
export async function backTranslate(options: {
  text: string;
  translate: TranslateFn;
  source?: string;
  pivot?: string;
}): Promise<string> {
  const source = options.source ?? 'en';
  const pivot = options.pivot ?? 'fr';
  const there = await options.translate(options.text, { from: source, to: pivot });
  return options.translate(there, { from: pivot, to: source });
}

export interface AugmentOptions {
  documents: AsyncIterable<Document> | Iterable<Document>;
  /** Augmented copies made per document (default 1); originals are passed through first. */
  copies?: number;
  seed?: number;
  /** Words replaced by a WordNet synonym per copy, as a fraction of words (EDA α, default 0.1); needs `wordnet`. */
  synonymRate?: number;
  wordnet?: WordNet;
  /** Random swaps per copy as a fraction of words (default 0.1). */
  swapRate?: number;
  /** Per-word deletion probability (default 0.1). */
  deletionRate?: number;
  /** When given, each copy is also back-translated through this hook. */
  translate?: TranslateFn;
  pivot?: string;
  /** Keep the original documents in the output (default true). */
  keepOriginal?: boolean;
}

/**
 * Streams documents plus augmented copies (`<id>#aug<k>`): synonym replacement, random swap
 * and random deletion (EDA) applied per line, then optional back-translation. Seeded.
 */
export async function* augmentDocuments(options: AugmentOptions): AsyncGenerator<Document> {
  const rng = new SeededRandom(options.seed ?? 0);
  const copies = options.copies ?? 1;
  for await (const doc of options.documents) {
    if (options.keepOriginal ?? true) yield doc;
    for (let k = 0; k < copies; k++) {
      const lines = doc.text.split('\n').map((line) => {
        let words = line.split(/\s+/).filter((w) => w.length > 0);
        const n = (rate: number | undefined, fallback: number) =>
          Math.max(rate === 0 ? 0 : 1, Math.round(words.length * (rate ?? fallback)));
        if (options.wordnet && options.synonymRate !== 0)
          words = synonymReplacement({
            words,
            n: n(options.synonymRate, 0.1),
            rng,
            wordnet: options.wordnet,
          });
        if (options.swapRate !== 0) words = randomSwap({ words, n: n(options.swapRate, 0.1), rng });
        if (options.deletionRate !== 0)
          words = randomDeletion({ words, p: options.deletionRate ?? 0.1, rng });
        return words.join(' ');
      });
      let text = lines.join('\n');
      if (options.translate)
        text = await backTranslate({ text, translate: options.translate, pivot: options.pivot });
      yield { ...doc, id: `${doc.id}#aug${k}`, text, meta: { ...doc.meta, augmented: true } };
    }
  }
}
