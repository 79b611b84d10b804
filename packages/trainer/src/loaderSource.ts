import type { BatchSource, TokenBatch } from './batchSource.js';
import { checkInteger } from './errors.js';

/**
 * What the trainer needs of @deepline/data's TokenLoader (structural, so any loader with
 * these members works): packed sequences of `sequenceLength` tokens, batched, with a
 * JSON state that restores the exact position.
 */
export interface SequenceLoader {
  readonly sequenceLength: number;
  nextBatch(batchSize: number): Promise<Int32Array | undefined>;
  state(): unknown;
  restore(state: never): void;
}

/**
 * A BatchSource over a packed-sequence loader: each next() is `batchSize` sequences. Use a
 * loader `sequenceLength` of context + 1, because the trainer predicts token i+1 from 0..i.
 */
export function loaderBatchSource(options: {
  loader: SequenceLoader;
  batchSize: number;
}): BatchSource {
  const { loader } = options;
  const batchSize = checkInteger('batchSize', options.batchSize, 1);
  return {
    async next(): Promise<TokenBatch | undefined> {
      const tokens = await loader.nextBatch(batchSize);
      return tokens ? { tokens, batchSize, seqLen: loader.sequenceLength } : undefined;
    },
    state: () => loader.state(),
    restore: (state: unknown) => loader.restore(state as never),
  };
}
