/**
 * Growable hash map from an id pair (a, b) to a dense index, with per-pair counts and the
 * list of words containing the pair: the bookkeeping of BPE training, without string keys.
 */
export class PairCounter {
  private bits = 16;
  private slots = new Int32Array(1 << 16).fill(-1);
  pairA = new Int32Array(1024);
  pairB = new Int32Array(1024);
  count = new Float64Array(1024);
  /** Words containing each pair (may hold stale entries; callers re-check). */
  where: number[][] = [];
  size = 0;

  private hash(a: number, b: number): number {
    return Math.imul(Math.imul(a, 0x9e3779b1) ^ b, 0x85ebca6b) >>> (32 - this.bits);
  }

  /** Dense index of (a, b), creating it with count 0 when absent. */
  index(a: number, b: number): number {
    const mask = (1 << this.bits) - 1;
    let s = this.hash(a, b);
    for (;;) {
      const i = this.slots[s]!;
      if (i === -1) break;
      if (this.pairA[i] === a && this.pairB[i] === b) return i;
      s = (s + 1) & mask;
    }
    const i = this.size++;
    if (i >= this.pairA.length) this.growArrays();
    this.pairA[i] = a;
    this.pairB[i] = b;
    this.count[i] = 0;
    this.where.push([]);
    this.slots[s] = i;
    if (this.size * 2 > 1 << this.bits) this.rehash();
    return i;
  }

  private growArrays(): void {
    const n = this.pairA.length * 2;
    const a = new Int32Array(n);
    a.set(this.pairA);
    const b = new Int32Array(n);
    b.set(this.pairB);
    const c = new Float64Array(n);
    c.set(this.count);
    this.pairA = a;
    this.pairB = b;
    this.count = c;
  }

  private rehash(): void {
    this.bits++;
    const mask = (1 << this.bits) - 1;
    this.slots = new Int32Array(1 << this.bits).fill(-1);
    for (let i = 0; i < this.size; i++) {
      let s = this.hash(this.pairA[i]!, this.pairB[i]!);
      while (this.slots[s] !== -1) s = (s + 1) & mask;
      this.slots[s] = i;
    }
  }
}
