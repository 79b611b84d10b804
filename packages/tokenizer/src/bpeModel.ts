import type { PairTable } from './pairTable.js';
import { PieceCache } from './pieceCache.js';
import { encodeUtf8Into } from './utf8.js';

const NO_RANK = 0x7fffffff;
/** Pieces longer than this use the O(n log n) heap merge instead of the O(n²) scan. */
const HEAP_THRESHOLD = 256;

export interface BpeModelOptions {
  /** Id of each single byte 0..255 (-1 where the vocab lacks it; such bytes are dropped, as HF does). */
  byteIds: Int32Array;
  /** Merge table over token ids. */
  pairs: PairTable;
  /** When set, a piece whose bytes are one vocab token maps to it directly (tiktoken, HF `ignore_merges`). */
  direct?: Map<string, number>;
  /** Entries per cache generation (two generations are kept). Default 65,536. */
  cacheSize?: number;
}

type Cached = number | Int32Array;

/**
 * The byte-pair merge engine: bytes → token ids with lowest-rank-first, leftmost-on-ties
 * merging (the rule shared by tiktoken and HF BPE), plus a two-generation cache from
 * pre-token text to ids, which is what makes repeated words cost one Map lookup.
 */
export class BpeModel {
  private readonly byteIds: Int32Array;
  private readonly pairs: PairTable;
  private readonly direct?: Map<string, number>;
  private readonly cacheSize: number;
  private caches: Map<string, Cached>[] = [new Map(), new Map(), new Map(), new Map()];
  private older: Map<string, Cached>[] = [new Map(), new Map(), new Map(), new Map()];
  private readonly rangeCache = new PieceCache();
  private bytes = new Uint8Array(1024);
  private ids = new Int32Array(1024);
  private ranks = new Int32Array(1024);
  private merged = new Int32Array(1024);

  constructor(options: BpeModelOptions) {
    this.byteIds = options.byteIds;
    this.pairs = options.pairs;
    this.direct = options.direct;
    this.cacheSize = options.cacheSize ?? 65536;
  }

  /**
   * Appends the ids of text[start, end) to `out`. `prefixSpace` encodes a virtual leading
   * space (HF ByteLevel add_prefix_space); `escapedBytes` reads U+DC80..U+DCFF as raw bytes.
   */
  encodePiece(
    text: string,
    start: number,
    end: number,
    prefixSpace: boolean,
    escapedBytes: boolean,
    out: number[],
  ): void {
    const key = start === 0 && end === text.length ? text : text.slice(start, end);
    this.encodeKey(key, prefixSpace, escapedBytes, out);
  }

  /**
   * Hot path for plain string input: appends the ids of text[start, end) using the
   * allocation-free piece cache.
   */
  encodeRange(text: string, start: number, end: number, out: number[]): void {
    const hash = PieceCache.hash(text, start, end);
    if (this.rangeCache.get(text, start, end, hash, out)) return;
    const from = out.length;
    const need = (end - start) * 3;
    if (this.bytes.length < need) this.bytes = new Uint8Array(need * 2);
    const n = encodeUtf8Into(text, start, end, this.bytes, false);
    this.mergeBytes(this.bytes, n, out, NO_RANK);
    this.rangeCache.set(text, start, end, hash, out, from);
  }

  /** Same as encodePiece for a whole string, e.g. a regex match. */
  encodeKey(key: string, prefixSpace: boolean, escapedBytes: boolean, out: number[]): void {
    const which = (prefixSpace ? 1 : 0) | (escapedBytes ? 2 : 0);
    const cache = this.caches[which]!;
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = this.older[which]!.get(key);
      if (hit === undefined) hit = this.compute(key, prefixSpace, escapedBytes);
      if (cache.size >= this.cacheSize) {
        this.older[which] = cache;
        this.caches[which] = new Map([[key, hit]]);
      } else cache.set(key, hit);
    }
    if (typeof hit === 'number') out.push(hit);
    else for (let i = 0; i < hit.length; i++) out.push(hit[i]!);
  }

  private compute(key: string, prefixSpace: boolean, escapedBytes: boolean): Cached {
    const need = key.length * 3 + 1;
    if (this.bytes.length < need) this.bytes = new Uint8Array(need * 2);
    let n = 0;
    if (prefixSpace) this.bytes[n++] = 0x20;
    n += encodeUtf8Into(
      key,
      0,
      key.length,
      prefixSpace ? this.bytes.subarray(1) : this.bytes,
      escapedBytes,
    );
    const out: number[] = [];
    this.mergeBytes(this.bytes, n, out, NO_RANK);
    return out.length === 1 ? out[0]! : Int32Array.from(out);
  }

  /**
   * Merges `bytes[0, n)` into ids appended to `out`, using only merges whose rank is below
   * `maxRank` (used to rebuild merge lists from tiktoken ranks).
   */
  mergeBytes(bytes: Uint8Array, n: number, out: number[], maxRank: number): void {
    if (n === 0) return;
    if (this.direct !== undefined && maxRank === NO_RANK && n > 1) {
      const id = this.direct.get(latin1(bytes, n));
      if (id !== undefined) {
        out.push(id);
        return;
      }
    }
    if (this.ids.length < n) {
      this.ids = new Int32Array(n * 2);
      this.ranks = new Int32Array(n * 2);
      this.merged = new Int32Array(n * 2);
    }
    const ids = this.ids;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const id = this.byteIds[bytes[i]!]!;
      if (id >= 0) ids[m++] = id;
    }
    if (m > HEAP_THRESHOLD) this.mergeHeap(m, out, maxRank);
    else this.mergeScan(m, out, maxRank);
  }

  private rankAt(i: number, maxRank: number): void {
    const slot = this.pairs.find(this.ids[i]!, this.ids[i + 1]!);
    if (slot < 0 || this.pairs.rank[slot]! >= maxRank) this.ranks[i] = NO_RANK;
    else {
      this.ranks[i] = this.pairs.rank[slot]!;
      this.merged[i] = this.pairs.merged[slot]!;
    }
  }

  private mergeScan(n: number, out: number[], maxRank: number): void {
    const ids = this.ids;
    const ranks = this.ranks;
    const merged = this.merged;
    let m = n;
    for (let i = 0; i < m - 1; i++) this.rankAt(i, maxRank);
    while (m > 1) {
      let best = NO_RANK;
      let j = -1;
      for (let i = 0; i < m - 1; i++) {
        if (ranks[i]! < best) {
          best = ranks[i]!;
          j = i;
        }
      }
      if (j < 0) break;
      ids[j] = merged[j]!;
      for (let i = j + 1; i < m - 1; i++) {
        ids[i] = ids[i + 1]!;
        ranks[i] = ranks[i + 1]!;
        merged[i] = merged[i + 1]!;
      }
      m--;
      if (j < m - 1) this.rankAt(j, maxRank);
      if (j > 0) this.rankAt(j - 1, maxRank);
    }
    for (let i = 0; i < m; i++) out.push(ids[i]!);
  }

  /** Linked list + binary heap keyed by (rank, position): same result as mergeScan in O(n log n). */
  private mergeHeap(n: number, out: number[], maxRank: number): void {
    const ids = this.ids;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap(n);
    const pairRank = (i: number): number => {
      const j = next[i]!;
      if (j < 0) return NO_RANK;
      const slot = this.pairs.find(ids[i]!, ids[j]!);
      return slot < 0 || this.pairs.rank[slot]! >= maxRank ? NO_RANK : this.pairs.rank[slot]!;
    };
    for (let i = 0; i < n - 1; i++) {
      const r = pairRank(i);
      if (r !== NO_RANK) heap.push(r, i);
    }
    while (heap.size > 0) {
      const r = heap.topRank();
      const i = heap.pop();
      const j = next[i]!;
      if (j < 0 || ids[i]! < 0 || pairRank(i) !== r) continue;
      const slot = this.pairs.find(ids[i]!, ids[j]!);
      ids[i] = this.pairs.merged[slot]!;
      ids[j] = -1;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      const left = prev[i]!;
      if (left >= 0) {
        const rl = pairRank(left);
        if (rl !== NO_RANK) heap.push(rl, left);
      }
      const rr = pairRank(i);
      if (rr !== NO_RANK) heap.push(rr, i);
    }
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
  }
}

/** Latin-1 string of bytes[0, n): a char loop beats Buffer#toString for short keys. */
export function latin1(bytes: Uint8Array, n = bytes.length): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Binary min-heap of (rank, position) ordered by rank, then position. */
class MinHeap {
  private rank: Int32Array;
  private pos: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.rank = new Int32Array(Math.max(16, capacity * 2));
    this.pos = new Int32Array(Math.max(16, capacity * 2));
  }

  private less(a: number, b: number): boolean {
    return (
      this.rank[a]! < this.rank[b]! ||
      (this.rank[a] === this.rank[b] && this.pos[a]! < this.pos[b]!)
    );
  }

  private swap(a: number, b: number): void {
    const r = this.rank[a]!;
    const p = this.pos[a]!;
    this.rank[a] = this.rank[b]!;
    this.pos[a] = this.pos[b]!;
    this.rank[b] = r;
    this.pos[b] = p;
  }

  push(rank: number, pos: number): void {
    if (this.size === this.rank.length) {
      const r = new Int32Array(this.size * 2);
      const p = new Int32Array(this.size * 2);
      r.set(this.rank);
      p.set(this.pos);
      this.rank = r;
      this.pos = p;
    }
    let i = this.size++;
    this.rank[i] = rank;
    this.pos[i] = pos;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  topRank(): number {
    return this.rank[0]!;
  }

  pop(): number {
    const top = this.pos[0]!;
    this.size--;
    if (this.size > 0) {
      this.rank[0] = this.rank[this.size]!;
      this.pos[0] = this.pos[this.size]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.size && this.less(l, m)) m = l;
        if (r < this.size && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
