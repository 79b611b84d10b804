import { DataError } from '../errors.js';
import { type MinHashOptions, type MinHasher, buildMinHasher } from './minhashFamily.js';

export {
  type MinHashOptions,
  type MinHasher,
  estimateJaccard,
  candidateProbability,
} from './minhashFamily.js';

/**
 * Validates the options and builds the hash family. Each function is h_i(x) = xorshift16(((x ^ b_i) · a_i) mod 2³²) over
 * murmur-finalised shingle hashes: four integer ops per (shingle, function), which is what
 * makes 112 functions affordable in JS.
 */
export function createMinHasher(options: MinHashOptions = {}): MinHasher {
  const ngram = options.ngram ?? 5;
  const bands = options.bands ?? 14;
  const rows = options.rows ?? 8;
  for (const [field, v] of [
    ['ngram', ngram],
    ['bands', bands],
    ['rows', rows],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new DataError(`minhash.${field} must be a positive integer, got ${v}`, {
        code: 'BAD_OPTION',
        context: { field: `minhash.${field}` },
      });
  }
  return buildMinHasher({ ngram, bands, rows, seed: options.seed ?? 1 });
}
