import { join } from 'node:path';
import { SeededRandom } from '@deepline/core';
import { DataError } from '../errors.js';
import { type ShardManifest, readManifest } from './manifest.js';
import { type ShardContents, readShardFile } from './shardTable.js';

/**
 * Exact position of a loader: the next sequence starts at token `token` of document `doc`
 * (in this epoch's order) of shard `shard` (in this epoch's order); `token` equal to the
 * document's length means its trailing EOS. Plain JSON, so a trainer can checkpoint it.
 */
export interface LoaderState {
  epoch: number;
  shard: number;
  doc: number;
  token: number;
  /** Sequences yielded so far (informational). */
  sequences: number;
}

export interface CreateLoaderOptions {
  /** Directory with manifest.json and the shards. */
  dir: string;
  /** Which split to read (default 'train'). */
  split?: string;
  /** Tokens per yielded sequence (use context + 1 for next-token targets). */
  sequenceLength: number;
  /** Shuffle shard order and document order per epoch (default true). */
  shuffle?: boolean;
  seed?: number;
  /** Epochs to run (default 1; Infinity loops forever). */
  epochs?: number;
  /** Shards loaded ahead of the one being read (default 1). */
  prefetch?: number;
  /** Check each shard's SHA-256 against the manifest (default true). */
  verify?: boolean;
  /** Resume from a state returned by {@link TokenLoader.state}. */
  state?: LoaderState;
}

/**
 * Streams fixed-length packed sequences: documents back to back with EOS after each, cut
 * into `sequenceLength` pieces (a partial piece at the end of an epoch is dropped). The
 * order is a pure function of (seed, epoch), so `state()` + `createLoader({ state })`
 * continues with exactly the sequences the original would have produced.
 */
export class TokenLoader implements AsyncIterable<Int32Array> {
  readonly manifest: ShardManifest;
  readonly sequenceLength: number;
  private readonly options: Required<Omit<CreateLoaderOptions, 'state'>>;
  private readonly eos: number;
  private pos: LoaderState;
  private readonly cache = new Map<number, Promise<ShardContents>>();
  private orderCache: { epoch: number; shards: number[] } | undefined;
  private docOrderCache: { key: string; order: Uint32Array } | undefined;

  private constructor(manifest: ShardManifest, options: CreateLoaderOptions) {
    this.manifest = manifest;
    this.options = {
      dir: options.dir,
      split: options.split ?? 'train',
      sequenceLength: options.sequenceLength,
      shuffle: options.shuffle ?? true,
      seed: options.seed ?? 0,
      epochs: options.epochs ?? 1,
      prefetch: options.prefetch ?? 1,
      verify: options.verify ?? true,
    };
    this.sequenceLength = options.sequenceLength;
    this.eos = manifest.tokenizer.eosTokenId;
    this.pos = options.state
      ? { ...options.state }
      : { epoch: 0, shard: 0, doc: 0, token: 0, sequences: 0 };
  }

  /** Opens a split of a shard directory. */
  static async open(options: CreateLoaderOptions): Promise<TokenLoader> {
    if (!Number.isInteger(options.sequenceLength) || options.sequenceLength < 1) {
      throw new DataError(
        `sequenceLength must be a positive integer, got ${options.sequenceLength}`,
        { code: 'BAD_OPTION', context: { field: 'sequenceLength' } },
      );
    }
    const manifest = await readManifest(options.dir);
    const split = options.split ?? 'train';
    if (!manifest.splits[split]) {
      throw new DataError(
        `split "${split}" not in ${options.dir} (has ${Object.keys(manifest.splits).join(', ')})`,
        { code: 'BAD_OPTION', context: { field: 'split' } },
      );
    }
    if (options.state) validateState(options.state);
    return new TokenLoader(manifest, options);
  }

  /** A copy of the current position; pass it as `state` to resume exactly here. */
  state(): LoaderState {
    return { ...this.pos };
  }

  /** Moves to a saved position. */
  restore(state: LoaderState): void {
    validateState(state);
    this.pos = { ...state };
  }

  /** The next sequence, or undefined when every epoch is done. */
  async next(): Promise<Int32Array | undefined> {
    const shards = this.manifest.splits[this.options.split]!.shards;
    const out = new Int32Array(this.sequenceLength);
    for (;;) {
      if (this.pos.epoch >= this.options.epochs || shards.length === 0) return undefined;
      const start = { ...this.pos };
      if (await this.fill(out)) {
        this.pos.sequences = start.sequences + 1;
        return out;
      }
      if (start.shard === 0 && start.doc === 0 && start.token === 0) {
        throw new DataError(
          `split "${this.options.split}" holds fewer than ${this.sequenceLength} tokens`,
          { code: 'BAD_OPTION', context: { field: 'sequenceLength' } },
        );
      }
      // Not enough tokens left in this epoch: drop the remainder and start the next epoch.
      this.pos = { epoch: start.epoch + 1, shard: 0, doc: 0, token: 0, sequences: start.sequences };
    }
  }

  /** `batchSize` sequences packed into one [batchSize × sequenceLength] array, or undefined at the end. */
  async nextBatch(batchSize: number): Promise<Int32Array | undefined> {
    const batch = new Int32Array(batchSize * this.sequenceLength);
    for (let i = 0; i < batchSize; i++) {
      const seq = await this.next();
      if (!seq) return undefined;
      batch.set(seq, i * this.sequenceLength);
    }
    return batch;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Int32Array> {
    for (;;) {
      const seq = await this.next();
      if (!seq) return;
      yield seq;
    }
  }

  /** Copies tokens from the current position into `out`; false (position unchanged) if the epoch runs out first. */
  private async fill(out: Int32Array): Promise<boolean> {
    const shards = this.manifest.splits[this.options.split]!.shards;
    const order = this.shardOrder(this.pos.epoch, shards.length);
    let { shard, doc, token } = this.pos;
    let written = 0;
    while (written < out.length) {
      if (shard >= order.length) return false;
      const contents = await this.load(order[shard]!, order, shard);
      const docs = contents.offsets.length - 1;
      if (doc >= docs) {
        shard++;
        doc = 0;
        token = 0;
        continue;
      }
      const d = this.docOrder(this.pos.epoch, order[shard]!, docs)[doc]!;
      const begin = contents.offsets[d]!;
      const length = contents.offsets[d + 1]! - begin;
      if (token < length) {
        const n = Math.min(length - token, out.length - written);
        out.set(contents.tokens.subarray(begin + token, begin + token + n), written);
        written += n;
        token += n;
      } else {
        out[written++] = this.eos;
        doc++;
        token = 0;
      }
    }
    this.pos = { ...this.pos, shard, doc, token };
    return true;
  }

  private shardOrder(epoch: number, count: number): number[] {
    if (this.orderCache?.epoch === epoch) return this.orderCache.shards;
    const shards = Array.from({ length: count }, (_, i) => i);
    if (this.options.shuffle)
      new SeededRandom(mix(this.options.seed, epoch, 0x5a4d)).shuffle(shards);
    this.orderCache = { epoch, shards };
    // Shards of earlier epochs are not needed again.
    this.cache.clear();
    return shards;
  }

  private docOrder(epoch: number, shard: number, count: number): Uint32Array {
    const key = `${epoch}:${shard}`;
    if (this.docOrderCache?.key === key) return this.docOrderCache.order;
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    if (this.options.shuffle) {
      const rng = new SeededRandom(mix(this.options.seed, epoch, shard + 1));
      for (let i = count - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
    }
    this.docOrderCache = { key, order };
    return order;
  }

  /** Loads shard `index`, keeping it and the next `prefetch` shards of this epoch's order in flight. */
  private load(index: number, order: number[], position: number): Promise<ShardContents> {
    for (const key of this.cache.keys()) {
      const at = order.indexOf(key);
      if (at < position) this.cache.delete(key);
    }
    for (let p = position; p <= Math.min(order.length - 1, position + this.options.prefetch); p++) {
      const shardIndex = order[p]!;
      if (!this.cache.has(shardIndex)) {
        const entry = this.manifest.splits[this.options.split]!.shards[shardIndex]!;
        const promise = readShardFile({
          file: join(this.options.dir, entry.file),
          sha256: this.options.verify ? entry.sha256 : undefined,
        });
        // A prefetch that fails is reported when (and if) the shard is actually needed.
        promise.catch(() => undefined);
        this.cache.set(shardIndex, promise);
      }
    }
    return this.cache.get(index)!;
  }
}

/** Opens a loader; see {@link TokenLoader}. */
export function createLoader(options: CreateLoaderOptions): Promise<TokenLoader> {
  return TokenLoader.open(options);
}

function validateState(state: LoaderState): void {
  for (const key of ['epoch', 'shard', 'doc', 'token', 'sequences'] as const) {
    if (!Number.isInteger(state[key]) || state[key] < 0) {
      throw new DataError(`loader state.${key} must be a non-negative integer, got ${state[key]}`, {
        code: 'BAD_OPTION',
        context: { field: `state.${key}` },
      });
    }
  }
}

function mix(seed: number, a: number, b: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ a, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
