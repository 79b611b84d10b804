import type { TextTokenizer } from './types.js';

/**
 * The simplest tokenizer satisfying {@link TextTokenizer}: one token per UTF-8 byte (ids
 * 0–255) and EOS = 256. Handy for tests, smoke runs and `deepline data shard --tokenizer byte`.
 */
export class ByteTokenizer implements TextTokenizer {
  readonly vocabSize = 257;
  readonly eosTokenId = 256;

  encode(text: string): Uint8Array {
    return Buffer.from(text, 'utf8');
  }

  decode(ids: ArrayLike<number>): string {
    return Buffer.from(Array.from(ids).filter((id) => id < 256)).toString('utf8');
  }
}
