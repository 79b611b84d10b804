import { SeededRandom } from '@deepline/core';
import { ArrayBatchSource } from '../batchSource.js';

/**
 * A deterministic corpus: `count` sequences of `seqLen` tokens, each a window of one fixed
 * cyclic permutation of the vocabulary (so every token determines its successor).
 */
export function cyclicCorpus(options: {
  vocabSize: number;
  seqLen: number;
  count: number;
  seed?: number;
}): Int32Array[] {
  const rng = new SeededRandom(options.seed ?? 7);
  const cycle = rng.shuffle(Array.from({ length: options.vocabSize }, (_, i) => i));
  return Array.from({ length: options.count }, (_, c) => {
    const start = rng.int(cycle.length);
    return Int32Array.from(
      { length: options.seqLen },
      (_, i) => cycle[(start + i + c) % cycle.length]!,
    );
  });
}

/** An ArrayBatchSource over cyclicCorpus. */
export function cyclicSource(options: {
  vocabSize: number;
  seqLen: number;
  count: number;
  batchSize: number;
  shuffleSeed?: number;
  epochs?: number;
}) {
  return new ArrayBatchSource({
    sequences: cyclicCorpus(options),
    batchSize: options.batchSize,
    shuffleSeed: options.shuffleSeed,
    epochs: options.epochs,
  });
}
