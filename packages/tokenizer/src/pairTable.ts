/**
 * Open-addressing hash table from a pair of token ids (a, b) to (rank, merged id). Integer
 * keys in typed arrays keep the BPE merge loop free of string building and GC.
 */
export class PairTable {
  private readonly bits: number;
  private readonly mask: number;
  private readonly keyA: Int32Array;
  private readonly keyB: Int32Array;
  /** Merge priority of each slot (lower merges first). */
  readonly rank: Int32Array;
  /** Id produced by merging the pair in each slot. */
  readonly merged: Int32Array;
  size = 0;

  constructor(expected: number) {
    let bits = 4;
    while (1 << bits < expected * 2) bits++;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.keyA = new Int32Array(1 << bits).fill(-1);
    this.keyB = new Int32Array(1 << bits);
    this.rank = new Int32Array(1 << bits);
    this.merged = new Int32Array(1 << bits);
  }

  private slotOf(a: number, b: number): number {
    return Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) >>> (32 - this.bits);
  }

  /** Slot index of (a, b), or -1 when the pair never merges. */
  find(a: number, b: number): number {
    let slot = this.slotOf(a, b);
    const keyA = this.keyA;
    for (;;) {
      const k = keyA[slot]!;
      if (k === a && this.keyB[slot] === b) return slot;
      if (k === -1) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Inserts or overwrites (a, b) → (rank, merged). */
  set(a: number, b: number, rank: number, merged: number): void {
    let slot = this.slotOf(a, b);
    for (;;) {
      const k = this.keyA[slot]!;
      if (k === -1) {
        if (this.size * 2 >= this.mask) throw new RangeError('PairTable is full');
        this.keyA[slot] = a;
        this.keyB[slot] = b;
        this.size++;
        break;
      }
      if (k === a && this.keyB[slot] === b) break;
      slot = (slot + 1) & this.mask;
    }
    this.rank[slot] = rank;
    this.merged[slot] = merged;
  }

  /** Calls fn for every stored pair. */
  forEach(fn: (a: number, b: number, rank: number, merged: number) => void): void {
    for (let s = 0; s <= this.mask; s++) {
      if (this.keyA[s] !== -1) fn(this.keyA[s]!, this.keyB[s]!, this.rank[s]!, this.merged[s]!);
    }
  }
}
