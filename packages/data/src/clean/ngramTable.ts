/**
 * Open-addressing hash table keyed by a pair of 32-bit hashes, with a count per key. Typed
 * arrays instead of a Map of 52-bit numbers (heap doubles) make the n-gram statistics of the
 * repetition filter several times faster. `reset(n)` reuses the storage between documents.
 */
export class NgramTable {
  private keysA = new Uint32Array(0);
  private keysB = new Uint32Array(0);
  private counts = new Uint32Array(0);
  private mask = 0;

  /** Empties the table, sized for up to `n` distinct keys. */
  reset(n: number): void {
    let cap = 16;
    while (cap < n * 2) cap <<= 1;
    if (cap > this.counts.length || cap * 8 < this.counts.length) {
      this.keysA = new Uint32Array(cap);
      this.keysB = new Uint32Array(cap);
      this.counts = new Uint32Array(cap);
    } else this.counts.fill(0, 0, cap);
    this.mask = cap - 1;
  }

  /** Adds one occurrence of (a, b); returns its slot (see {@link countAt}). */
  addSlot(a: number, b: number): number {
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) {
        this.keysA[i] = a;
        this.keysB[i] = b;
        this.counts[i] = 1;
        return i;
      }
      if (this.keysA[i] === a >>> 0 && this.keysB[i] === b >>> 0) {
        this.counts[i] = c + 1;
        return i;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Current count of the key in `slot`. */
  countAt(slot: number): number {
    return this.counts[slot]!;
  }

  /** Adds one occurrence of (a, b); returns the new count. */
  add(a: number, b: number): number {
    return this.counts[this.addSlot(a, b)]!;
  }

  /** True when (a, b) is present. */
  has(a: number, b: number): boolean {
    return this.count(a, b) > 0;
  }

  /** Occurrences of (a, b) so far. */
  count(a: number, b: number): number {
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) return 0;
      if (this.keysA[i] === a >>> 0 && this.keysB[i] === b >>> 0) return c;
      i = (i + 1) & this.mask;
    }
  }
}
