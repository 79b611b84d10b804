/**
 * Open-addressing hash table keyed by a pair of 32-bit hashes, with a count and the first
 * position added per key. One interleaved Int32Array (a, b, count, first) keeps a probe in one
 * cache line, and typed arrays instead of a Map of 52-bit numbers (heap doubles) make the
 * n-gram statistics of the repetition filter several times faster. `reset(n)` reuses the
 * storage between documents.
 */
export class NgramTable {
  private slots = new Int32Array(0);
  private mask = 0;

  /** Empties the table, sized for up to `n` distinct keys. */
  reset(n: number): void {
    let cap = 16;
    while (cap < n * 2) cap <<= 1;
    if (cap * 4 > this.slots.length || cap * 32 < this.slots.length)
      this.slots = new Int32Array(cap * 4);
    else this.slots.fill(0, 0, cap * 4);
    this.mask = cap - 1;
  }

  /** Adds one occurrence of (a, b) seen at `position`; returns its slot (see {@link countAt}). */
  addSlot(a: number, b: number, position = 0): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      const at = i << 2;
      const c = slots[at + 2]!;
      if (c === 0) {
        slots[at] = a;
        slots[at + 1] = b;
        slots[at + 2] = 1;
        slots[at + 3] = position;
        return i;
      }
      if (slots[at] === (a | 0) && slots[at + 1] === (b | 0)) {
        slots[at + 2] = c + 1;
        return i;
      }
      i = (i + 1) & mask;
    }
  }

  /** Current count of the key in `slot`. */
  countAt(slot: number): number {
    return this.slots[(slot << 2) + 2]!;
  }

  /** Position given when the key in `slot` was first added. */
  firstAt(slot: number): number {
    return this.slots[(slot << 2) + 3]!;
  }

  /** Adds one occurrence of (a, b); returns the new count. */
  add(a: number, b: number): number {
    return this.countAt(this.addSlot(a, b));
  }

  /** True when (a, b) is present. */
  has(a: number, b: number): boolean {
    return this.count(a, b) > 0;
  }

  /** Occurrences of (a, b) so far. */
  count(a: number, b: number): number {
    const slots = this.slots;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const at = i << 2;
      const c = slots[at + 2]!;
      if (c === 0) return 0;
      if (slots[at] === (a | 0) && slots[at + 1] === (b | 0)) return c;
      i = (i + 1) & this.mask;
    }
  }
}
