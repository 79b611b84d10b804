/**
 * Cache from a pre-token (a range of the input string) to its token ids that hashes the
 * characters in place: a hit costs no string allocation and no Map lookup. Cleared whole
 * when full, which keeps memory bounded and the common words hot again within one text.
 */
export class PieceCache {
  private readonly bits: number;
  private readonly slotHash: Int32Array;
  /** 0 = empty; else key length. */
  private readonly slotLen: Int32Array;
  private readonly slotKey: Int32Array;
  private readonly slotValue: Int32Array;
  private readonly slotCount: Int32Array;
  private keys: Uint16Array;
  private values: Int32Array;
  private keyTop = 0;
  private valueTop = 0;
  private used = 0;

  constructor(bits = 17, keyPool = 1 << 21, valuePool = 1 << 20) {
    this.bits = bits;
    const n = 1 << bits;
    this.slotHash = new Int32Array(n);
    this.slotLen = new Int32Array(n);
    this.slotKey = new Int32Array(n);
    this.slotValue = new Int32Array(n);
    this.slotCount = new Int32Array(n);
    this.keys = new Uint16Array(keyPool);
    this.values = new Int32Array(valuePool);
  }

  /** Hash of text[start, end) (FNV-1a over UTF-16 code units). */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h;
  }

  /** Appends the cached ids of text[start, end) to out and returns true, or returns false on a miss. */
  get(text: string, start: number, end: number, hash: number, out: number[]): boolean {
    const len = end - start;
    const mask = (1 << this.bits) - 1;
    let slot = (Math.imul(hash, 0x9e3779b1) >>> (32 - this.bits)) & mask;
    const keys = this.keys;
    for (;;) {
      const l = this.slotLen[slot]!;
      if (l === 0) return false;
      if (l === len && this.slotHash[slot] === hash) {
        const k = this.slotKey[slot]!;
        let same = true;
        for (let i = 0; i < len; i++) {
          if (keys[k + i] !== text.charCodeAt(start + i)) {
            same = false;
            break;
          }
        }
        if (same) {
          const v = this.slotValue[slot]!;
          const c = this.slotCount[slot]!;
          const values = this.values;
          for (let i = 0; i < c; i++) out.push(values[v + i]!);
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
    if (len === 0 || len > 256 || count > 256) return;
    if (this.used * 2 >= 1 << this.bits || this.keyTop + len > this.keys.length || this.valueTop + count > this.values.length) this.clear();
    const mask = (1 << this.bits) - 1;
    let slot = (Math.imul(hash, 0x9e3779b1) >>> (32 - this.bits)) & mask;
    while (this.slotLen[slot] !== 0) slot = (slot + 1) & mask;
    this.slotHash[slot] = hash;
    this.slotLen[slot] = len;
    this.slotKey[slot] = this.keyTop;
    this.slotValue[slot] = this.valueTop;
    this.slotCount[slot] = count;
    for (let i = 0; i < len; i++) this.keys[this.keyTop++] = text.charCodeAt(start + i);
    for (let i = from; i < ids.length; i++) this.values[this.valueTop++] = ids[i]!;
    this.used++;
  }

  clear(): void {
    this.slotLen.fill(0);
    this.keyTop = 0;
    this.valueTop = 0;
    this.used = 0;
  }
}
