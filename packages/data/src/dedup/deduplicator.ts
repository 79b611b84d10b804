import { DataError } from '../errors.js';
import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { dedupWordHashes, exactKeyFromHashes } from './dedupText.js';
import { type MinHashOptions, type MinHasher, createMinHasher } from './minhash.js';

export interface DedupOptions {
  /** Drop documents whose normalised text was seen before (default true). */
  exact?: boolean;
  /** MinHash-LSH near-duplicate removal (default on, 5-grams, 14 × 8); false disables it. */
  minhash?: (MinHashOptions & { verifyThreshold?: number | null }) | false;
  report?: DataReport;
}

/** Hashes computed for one document (in a worker or inline) before the index decides. */
export interface DedupKeys {
  exact?: number;
  signature?: Int32Array;
}

/**
 * Streaming deduplication that keeps the first document of every cluster. A document is
 * dropped when its exact key was seen, or when it shares an LSH band with a kept document
 * whose MinHash-estimated Jaccard is at least `verifyThreshold` (default 0.7; null trusts
 * every band collision, as datatrove does). State per kept document: one number per band
 * plus a 16-bit-per-function signature copy for verification (about 0.4 KB at 14 × 8).
 */
export class Deduplicator {
  readonly hasher: MinHasher | undefined;
  private readonly exact: boolean;
  private readonly verify: number | null;
  private readonly exactSeen = new Set<number>();
  private readonly buckets: Array<Map<number, number>>;
  private signatures = new Uint16Array(0);
  private kept = 0;
  private readonly report: DataReport | undefined;

  constructor(options: DedupOptions = {}) {
    this.exact = options.exact ?? true;
    const mh = options.minhash === undefined ? {} : options.minhash;
    this.hasher = mh === false ? undefined : createMinHasher(mh);
    this.verify = mh === false ? null : mh.verifyThreshold === undefined ? 0.7 : mh.verifyThreshold;
    if (this.verify !== null && !(this.verify >= 0 && this.verify <= 1)) {
      throw new DataError(`minhash.verifyThreshold must be in [0, 1], got ${this.verify}`, {
        code: 'BAD_OPTION',
        context: { field: 'minhash.verifyThreshold' },
      });
    }
    this.buckets = Array.from({ length: this.hasher?.bands ?? 0 }, () => new Map<number, number>());
    this.report = options.report;
  }

  /** The hashes this deduplicator needs for `text` (pure; safe to compute in another thread). */
  keysFor(text: string): DedupKeys {
    const hashes = dedupWordHashes(text);
    return {
      exact: this.exact ? exactKeyFromHashes(hashes) : undefined,
      signature: this.hasher?.signatureOfHashes(hashes),
    };
  }

  /** Decides one document: true keeps it (and remembers it), false drops it. */
  check(doc: Document, keys: DedupKeys = this.keysFor(doc.text)): boolean {
    const exactStats = this.exact ? this.report?.stage('dedup_exact') : undefined;
    if (this.exact && keys.exact !== undefined) {
      if (exactStats) exactStats.input++;
      if (this.exactSeen.has(keys.exact)) {
        if (exactStats) this.report!.reject(exactStats, doc.id, 'exact_duplicate');
        return false;
      }
      if (exactStats) exactStats.output++;
    }
    if (this.hasher && keys.signature) {
      const stats = this.report?.stage('dedup_minhash');
      if (stats) stats.input++;
      const bandKeys = this.hasher.bandKeys(keys.signature);
      const match = this.findMatch(bandKeys, keys.signature);
      if (match !== undefined) {
        if (stats) this.report!.reject(stats, doc.id, 'near_duplicate', `J≈${match.toFixed(2)}`);
        return false;
      }
      if (stats) stats.output++;
      this.remember(bandKeys, keys.signature);
    }
    if (this.exact && keys.exact !== undefined) this.exactSeen.add(keys.exact);
    this.kept++;
    return true;
  }

  /** Documents kept so far. */
  get keptCount(): number {
    return this.kept;
  }

  private findMatch(bandKeys: number[], signature: Int32Array): number | undefined {
    const k = signature.length;
    for (let b = 0; b < bandKeys.length; b++) {
      const other = this.buckets[b]!.get(bandKeys[b]!);
      if (other === undefined) continue;
      if (this.verify === null) return 1;
      let same = 0;
      const base = other * k;
      for (let i = 0; i < k; i++)
        if ((signature[i]! & 0xffff) === this.signatures[base + i]) same++;
      const estimate = same / k;
      if (estimate >= this.verify) return estimate;
    }
    return undefined;
  }

  private remember(bandKeys: number[], signature: Int32Array): void {
    const index = this.storedCount++;
    if (this.verify !== null) {
      const k = signature.length;
      if ((index + 1) * k > this.signatures.length) {
        const grown = new Uint16Array(Math.max(1024 * k, this.signatures.length * 2));
        grown.set(this.signatures);
        this.signatures = grown;
      }
      for (let i = 0; i < k; i++) this.signatures[index * k + i] = signature[i]! & 0xffff;
    }
    for (let b = 0; b < bandKeys.length; b++) {
      const bucket = this.buckets[b]!;
      if (!bucket.has(bandKeys[b]!)) bucket.set(bandKeys[b]!, index);
    }
  }

  private storedCount = 0;
}
