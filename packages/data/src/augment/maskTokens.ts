import type { SeededRandom } from '@deepline/core';
import { DataError } from '../errors.js';

/** Label value for positions that are not predicted (PyTorch's cross-entropy ignore_index). */
export const IGNORE_INDEX = -100;

export interface MaskTokensOptions {
  ids: ArrayLike<number>;
  vocabSize: number;
  maskTokenId: number;
  rng: SeededRandom;
  /** Share of positions selected for prediction (default 0.15). */
  probability?: number;
  /** Of the selected: share replaced by the mask token (default 0.8) and by a random token (default 0.1); the rest stay. */
  maskFraction?: number;
  randomFraction?: number;
  /** Ids never selected (BOS/EOS/padding…). */
  specialTokenIds?: Iterable<number>;
}

/**
 * BERT-style masking: each non-special position is selected with `probability`; a selected
 * token becomes [MASK] (80 %), a random non-special token (10 %) or stays (10 %). `labels`
 * holds the original id at selected positions and {@link IGNORE_INDEX} elsewhere.
 */
export function maskTokens(options: MaskTokensOptions): {
  inputIds: Int32Array;
  labels: Int32Array;
} {
  const p = options.probability ?? 0.15;
  const maskFraction = options.maskFraction ?? 0.8;
  const randomFraction = options.randomFraction ?? 0.1;
  if (
    !(p >= 0 && p <= 1) ||
    !(maskFraction >= 0 && randomFraction >= 0 && maskFraction + randomFraction <= 1)
  ) {
    throw new DataError('mask probabilities must lie in [0, 1] and mask + random ≤ 1', {
      code: 'BAD_OPTION',
      context: { field: 'probability' },
    });
  }
  const special = new Set(options.specialTokenIds ?? []);
  special.add(options.maskTokenId);
  const inputIds = Int32Array.from(options.ids);
  const labels = new Int32Array(inputIds.length).fill(IGNORE_INDEX);
  const rng = options.rng;
  for (let i = 0; i < inputIds.length; i++) {
    const id = inputIds[i]!;
    if (special.has(id) || rng.next() >= p) continue;
    labels[i] = id;
    const r = rng.next();
    if (r < maskFraction) inputIds[i] = options.maskTokenId;
    else if (r < maskFraction + randomFraction) {
      let replacement = rng.int(options.vocabSize);
      while (special.has(replacement)) replacement = rng.int(options.vocabSize);
      inputIds[i] = replacement;
    }
  }
  return { inputIds, labels };
}
