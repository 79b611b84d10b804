import { type RandomState, SeededRandom } from '@deepline/core';
import { checkInteger, TrainerError } from './errors.js';

/** One batch of packed, fixed-length token sequences (row-major [batchSize, seqLen]). */
export interface TokenBatch {
  tokens: Int32Array;
  batchSize: number;
  seqLen: number;
}

/**
 * The structural data contract: the data package's packed-sequence loader satisfies it.
 * `state()` must be JSON-serialisable and `restore(state)` must make `next()` continue
 * exactly where the saved loader was.
 */
export interface BatchSource {
  /** The next batch, or undefined when the data is exhausted. */
  next(): Promise<TokenBatch | undefined>;
  state(): unknown;
  restore(state: unknown): void;
}

/** Options of ArrayBatchSource. */
export interface ArrayBatchSourceOptions {
  /** Equal-length sequences. */
  sequences: Int32Array[];
  batchSize: number;
  /** Shuffle sequence order each epoch with this seed; omit to keep the given order. */
  shuffleSeed?: number;
  /** Passes over the data before next() returns undefined (default: unlimited). */
  epochs?: number;
}

interface ArraySourceState {
  epoch: number;
  cursor: number;
  order: number[];
  rng: RandomState | null;
}

/**
 * In-memory BatchSource over a list of sequences, with optional per-epoch shuffling and
 * exact resume. Batches never straddle epochs; a short tail of an epoch is dropped.
 */
export class ArrayBatchSource implements BatchSource {
  private readonly sequences: Int32Array[];
  private readonly batchSize: number;
  private readonly epochs: number;
  private readonly seqLen: number;
  private rng: SeededRandom | null;
  private order: number[];
  private epoch = 0;
  private cursor = 0;

  constructor(options: ArrayBatchSourceOptions) {
    this.batchSize = checkInteger('batchSize', options.batchSize, 1);
    if (options.sequences.length < this.batchSize) {
      throw new TrainerError(
        `ArrayBatchSource: ${options.sequences.length} sequences cannot fill one batch of ${this.batchSize}`,
        {
          code: 'DATA_TOO_SMALL',
          context: { field: 'sequences' },
        },
      );
    }
    this.seqLen = options.sequences[0]!.length;
    options.sequences.forEach((s, i) => {
      if (s.length !== this.seqLen) {
        throw new TrainerError(
          `ArrayBatchSource: sequence ${i} has ${s.length} tokens, expected ${this.seqLen}`,
          {
            code: 'DATA_SHAPE',
            context: { field: `sequences[${i}]` },
          },
        );
      }
    });
    this.sequences = options.sequences;
    this.epochs = options.epochs ?? Number.POSITIVE_INFINITY;
    this.rng = options.shuffleSeed === undefined ? null : new SeededRandom(options.shuffleSeed);
    this.order = this.newOrder();
  }

  async next(): Promise<TokenBatch | undefined> {
    if (this.cursor + this.batchSize > this.order.length) {
      this.epoch += 1;
      this.cursor = 0;
      if (this.epoch >= this.epochs) return undefined;
      this.order = this.newOrder();
    }
    if (this.epoch >= this.epochs) return undefined;
    const tokens = new Int32Array(this.batchSize * this.seqLen);
    for (let b = 0; b < this.batchSize; b++)
      tokens.set(this.sequences[this.order[this.cursor + b]!]!, b * this.seqLen);
    this.cursor += this.batchSize;
    return { tokens, batchSize: this.batchSize, seqLen: this.seqLen };
  }

  state(): ArraySourceState {
    return {
      epoch: this.epoch,
      cursor: this.cursor,
      order: [...this.order],
      rng: this.rng?.getState() ?? null,
    };
  }

  restore(state: unknown): void {
    const s = state as ArraySourceState;
    if (
      !s ||
      !Number.isInteger(s.epoch) ||
      !Number.isInteger(s.cursor) ||
      !Array.isArray(s.order) ||
      s.order.length !== this.sequences.length
    ) {
      throw new TrainerError(
        'ArrayBatchSource: saved data-loader state does not match this data set',
        {
          code: 'DATA_STATE',
          context: { field: 'data' },
        },
      );
    }
    this.epoch = s.epoch;
    this.cursor = s.cursor;
    this.order = [...s.order];
    if (s.rng) this.rng = SeededRandom.fromState(s.rng);
  }

  private newOrder(): number[] {
    const order = this.sequences.map((_, i) => i);
    return this.rng ? this.rng.shuffle(order) : order;
  }
}

/** Cuts a token stream into consecutive sequences of `seqLen` (the tail is dropped). */
export function packTokens(tokens: ArrayLike<number>, seqLen: number): Int32Array[] {
  checkInteger('seqLen', seqLen, 2);
  const out: Int32Array[] = [];
  for (let start = 0; start + seqLen <= tokens.length; start += seqLen) {
    out.push(Int32Array.from({ length: seqLen }, (_, i) => tokens[start + i]!));
  }
  return out;
}
