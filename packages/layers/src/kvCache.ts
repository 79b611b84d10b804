import { tf } from '@deepline/core';
import { LayersError } from './errors.js';

/** Which MLA computation: `absorb` caches the latent (model.py default), `naive` caches full k/v. */
export type AttentionImpl = 'absorb' | 'naive';

/**
 * One attention layer's cache: two tensors growing along axis 1 (absorb: latent `[B,T,rkv]`
 * and roped key `[B,T,dr]`; naive: keys `[B,T,H,dq]` and values `[B,T,H,dv]`).
 */
export class LayerKvCache {
  private first: tf.Tensor | undefined;
  private second: tf.Tensor | undefined;

  /** Positions currently held. */
  get length(): number {
    return this.first?.shape[1] ?? 0;
  }

  /**
   * Writes entries for positions startPos.. (dropping anything at or after startPos, so a
   * caller can rewind) and returns the full tensors covering 0..startPos+S-1. The cache
   * keeps its tensors alive across tf.tidy scopes; returned tensors belong to the cache.
   */
  write(startPos: number, first: tf.Tensor, second: tf.Tensor): [tf.Tensor, tf.Tensor] {
    if (startPos > this.length) {
      throw new LayersError(`cache holds ${this.length} positions; cannot write at startPos ${startPos}`, {
        code: 'CACHE_GAP',
        context: { field: 'startPos' },
      });
    }
    const nextFirst = extend(this.first, startPos, first);
    const nextSecond = extend(this.second, startPos, second);
    tf.keep(nextFirst);
    tf.keep(nextSecond);
    if (this.first && this.first !== nextFirst) this.first.dispose();
    if (this.second && this.second !== nextSecond) this.second.dispose();
    this.first = nextFirst;
    this.second = nextSecond;
    return [nextFirst, nextSecond];
  }

  dispose(): void {
    this.first?.dispose();
    this.second?.dispose();
    this.first = undefined;
    this.second = undefined;
  }
}

function extend(previous: tf.Tensor | undefined, startPos: number, update: tf.Tensor): tf.Tensor {
  if (!previous || startPos === 0) return tf.clone(update);
  const begin = previous.shape.map(() => 0);
  const size = previous.shape.map((d, i) => (i === 1 ? startPos : d));
  const kept = startPos === previous.shape[1] ? previous : tf.slice(previous, begin, size);
  return tf.concat([kept, update], 1);
}

/** Options of KvCache. */
export interface KvCacheOptions {
  batchSize: number;
  /** Longest sequence this cache may hold (≤ the model's maxSeqLen). */
  maxSeqLen: number;
  attention: AttentionImpl;
  /** Number of attention layers (main blocks). */
  nLayers: number;
}

/**
 * Incremental-decoding state of one batch of sequences: one LayerKvCache per block.
 * Create with `model.createCache(...)`; pass to `forward({cache, startPos})`; dispose when done.
 */
export class KvCache {
  readonly batchSize: number;
  readonly maxSeqLen: number;
  readonly attention: AttentionImpl;
  readonly layers: LayerKvCache[];

  constructor(options: KvCacheOptions) {
    this.batchSize = options.batchSize;
    this.maxSeqLen = options.maxSeqLen;
    this.attention = options.attention;
    this.layers = Array.from({ length: options.nLayers }, () => new LayerKvCache());
  }

  /** Positions filled (the next startPos for plain continuation). */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }

  /** Drops every cached position (keeps the object usable). */
  reset(): void {
    for (const layer of this.layers) layer.dispose();
  }

  dispose(): void {
    this.reset();
  }
}
