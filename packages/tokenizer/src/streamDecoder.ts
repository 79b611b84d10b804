import type { DecodeOptions, Tokenizer } from './tokenizer.js';
import { decodeUtf8, incompleteTail } from './utf8.js';

/**
 * Incremental decoder for streaming generation: `push` returns the text completed by the new
 * ids and holds back the bytes of a character that is not finished yet.
 */
export class StreamDecoder {
  private pending = new Uint8Array(0);

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: DecodeOptions,
  ) {}

  /** Adds ids; returns the newly completed text (possibly ''). */
  push(ids: number | ArrayLike<number>): string {
    const list = typeof ids === 'number' ? [ids] : ids;
    const fresh = this.tokenizer.decodeBytes(list, this.options);
    const all = new Uint8Array(this.pending.length + fresh.length);
    all.set(this.pending);
    all.set(fresh, this.pending.length);
    const keep = incompleteTailLength(all);
    this.pending = all.slice(all.length - keep);
    return decodeUtf8(all.subarray(0, all.length - keep));
  }

  /** Ends the stream: returns whatever is held back (an unfinished character becomes U+FFFD). */
  flush(): string {
    const rest = this.pending;
    this.pending = new Uint8Array(0);
    return decodeUtf8(rest);
  }
}

function incompleteTailLength(bytes: Uint8Array): number {
  return incompleteTail(bytes, bytes.length);
}
