/**
 * Open-addressing hash table from a pair of token ids (a, b) to (rank, merged id). Integer
 * keys in typed arrays keep the BPE merge loop free of string building and GC. Grows as
 * needed; an optional resolver fills pairs on first lookup (tiktoken ranks, where any two
 * tokens whose bytes concatenate to a token merge into it).
 */
export class PairTable {
  private bits: number;
  private mask: number;
  private keyA: Int32Array;
  private keyB: Int32Array;
  /** Merge priority of each slot (lower merges first; 0x7fffffff = never merges). */
  rank: Int32Array;
  /** Id produced by merging the pair in each slot. */
  merged: Int32Array;
  size = 0;
  /** Called on a miss: returns [rank, merged] or undefined (remembered as "never merges"). */
  resolver?: (a: number, b: number) => readonly [number, number] | undefined;

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

  /** Slot index of (a, b), or -1 when the pair never merges (check `rank` for resolved misses). */
  find(a: number, b: number): number {
    let slot = this.slotOf(a, b);
    const keyA = this.keyA;
    for (;;) {
      const k = keyA[slot]!;
      if (k === a && this.keyB[slot] === b) return slot;
      if (k === -1) break;
      slot = (slot + 1) & this.mask;
    }
    if (!this.resolver) return -1;
    const found = this.resolver(a, b);
    return this.set(a, b, found ? found[0] : 0x7fffffff, found ? found[1] : -1);
  }

  /** Inserts or overwrites (a, b) → (rank, merged); returns the slot. */
  set(a: number, b: number, rank: number, merged: number): number {
    if ((this.size + 1) * 2 > this.mask) this.grow();
    let slot = this.slotOf(a, b);
    for (;;) {
      const k = this.keyA[slot]!;
      if (k === -1) {
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
    return slot;
  }

  private grow(): void {
    const { keyA, keyB, rank, merged } = this;
    this.bits++;
    this.mask = (1 << this.bits) - 1;
    this.keyA = new Int32Array(1 << this.bits).fill(-1);
    this.keyB = new Int32Array(1 << this.bits);
    this.rank = new Int32Array(1 << this.bits);
    this.merged = new Int32Array(1 << this.bits);
    this.size = 0;
    for (let s = 0; s < keyA.length; s++)
      if (keyA[s] !== -1) this.set(keyA[s]!, keyB[s]!, rank[s]!, merged[s]!);
  }
}
