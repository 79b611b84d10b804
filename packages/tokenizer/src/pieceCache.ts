/**
 * Cache from a pre-token (a range of the input string) to its token ids that hashes the
 * characters in place: a hit costs no string allocation and no Map lookup. Each slot is
 * four adjacent int32s (hash, length|count, key offset, id or value offset) so a lookup
 * touches one cache line plus the key bytes. Cleared whole when full, which bounds memory.
 */
export class PieceCache {
  private readonly bits: number;
  /** Per slot: [hash, (keyLength << 16) | idCount (0 = empty), keyOffset, id (count 1) or valueOffset]. */
  private readonly slots: Int32Array;
  private readonly keys: Uint16Array;
  private readonly values: Int32Array;
  private keyTop = 0;
  private valueTop = 0;
  private used = 0;

  constructor(bits = 17, keyPool = 1 << 21, valuePool = 1 << 19) {
    this.bits = bits;
    this.slots = new Int32Array(4 << bits);
    this.keys = new Uint16Array(keyPool);
    this.values = new Int32Array(valuePool);
  }

  /**
   * Hash of text[start, end) from its length and four sampled code units: cheap, and the
   * full comparison on lookup settles the rare collisions.
   */
  static hash(text: string, start: number, end: number): number {
    const len = end - start;
    let h = Math.imul(len, 0x01000193) ^ text.charCodeAt(start);
    h = Math.imul(h, 0x01000193) ^ text.charCodeAt(end - 1);
    if (len > 2) {
      h = Math.imul(h, 0x01000193) ^ text.charCodeAt(start + 1);
      h = Math.imul(h, 0x01000193) ^ text.charCodeAt(start + (len >> 1));
    }
    return h;
  }

  /** Appends the cached ids of text[start, end) to out and returns true, or returns false on a miss. */
  get(text: string, start: number, end: number, hash: number, out: number[]): boolean {
    const len = end - start;
    const mask = (1 << this.bits) - 1;
    const slots = this.slots;
    const keys = this.keys;
    let slot = Math.imul(hash, 0x9e3779b1) >>> (32 - this.bits);
    for (;;) {
      const p = slot << 2;
      const meta = slots[p + 1]!;
      if (meta === 0) return false;
      if (meta >>> 16 === len && slots[p] === hash) {
        const k = slots[p + 2]!;
        let i = 0;
        while (i < len && keys[k + i] === text.charCodeAt(start + i)) i++;
        if (i === len) {
          const count = meta & 0xffff;
          if (count === 1) out.push(slots[p + 3]!);
          else {
            const v = slots[p + 3]!;
            const values = this.values;
            for (let j = 0; j < count; j++) out.push(values[v + j]!);
          }
          return true;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Stores ids[from, ids.length) for text[start, end). */
  set(text: string, start: number, end: number, hash: number, ids: number[], from: number): void {
    const len = end - start;
    const count = ids.length - from;
    if (len === 0 || count === 0 || len > 1024 || count > 1024) return;
    if (
      this.used * 2 >= 1 << this.bits ||
      this.keyTop + len > this.keys.length ||
      this.valueTop + count > this.values.length
    )
      this.clear();
    const mask = (1 << this.bits) - 1;
    let slot = Math.imul(hash, 0x9e3779b1) >>> (32 - this.bits);
    while (this.slots[(slot << 2) + 1] !== 0) slot = (slot + 1) & mask;
    const p = slot << 2;
    this.slots[p] = hash;
    this.slots[p + 1] = (len << 16) | count;
    this.slots[p + 2] = this.keyTop;
    for (let i = 0; i < len; i++) this.keys[this.keyTop++] = text.charCodeAt(start + i);
    if (count === 1) this.slots[p + 3] = ids[from]!;
    else {
      this.slots[p + 3] = this.valueTop;
      for (let i = from; i < ids.length; i++) this.values[this.valueTop++] = ids[i]!;
    }
    this.used++;
  }

  clear(): void {
    this.slots.fill(0);
    this.keyTop = 0;
    this.valueTop = 0;
    this.used = 0;
  }
}
