/**
 * Incremental detokenizer with stop-string matching. Decoding the whole id list each
 * step would be quadratic; instead the text of a short window of recent ids is diffed
 * (prefix/read offsets, as HF text-generation-inference does), and a trailing U+FFFD
 * (a multi-byte character split across tokens) is held back until it completes.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;
  /** All text decoded so far (not yet cut at a stop string). */
  private text = '';
  /** Characters of `text` already handed out. */
  private emitted = 0;
  private readonly stops: readonly string[];
  private readonly maxStop: number;

  constructor(private readonly options: { decode: (ids: readonly number[]) => string; stop?: readonly string[] }) {
    this.stops = (options.stop ?? []).filter((s) => s.length > 0);
    this.maxStop = this.stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  /**
   * Adds a token. Returns the text that is now safe to emit and, if a stop string
   * appeared, `stopped: true` (the stop string and what follows are never emitted).
   */
  push(id: number): { delta: string; stopped: boolean } {
    this.ids.push(id);
    const before = this.options.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = this.options.decode(this.ids.slice(this.prefixOffset));
    if (after.length > before.length && !after.endsWith('\uFFFD')) {
      this.text += after.slice(before.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
    }
    return this.release();
  }

  /** Text held back at the end (an incomplete character or a partial stop string). */
  flush(): string {
    if (this.readOffset < this.ids.length) {
      const before = this.options.decode(this.ids.slice(this.prefixOffset, this.readOffset));
      const after = this.options.decode(this.ids.slice(this.prefixOffset));
      this.text += after.slice(before.length);
      this.readOffset = this.ids.length;
    }
    const rest = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return rest;
  }

  /** Everything emitted so far. */
  get emittedText(): string {
    return this.text.slice(0, this.emitted);
  }

  private release(): { delta: string; stopped: boolean } {
    if (this.stops.length > 0) {
      // A stop string may straddle the previous emission boundary only within maxStop chars.
      const from = Math.max(0, this.emitted - this.maxStop + 1);
      let cut = -1;
      for (const stop of this.stops) {
        const at = this.text.indexOf(stop, from);
        if (at >= 0 && (cut < 0 || at < cut)) cut = at;
      }
      if (cut >= 0) {
        const delta = this.text.slice(this.emitted, Math.max(cut, this.emitted));
        this.text = this.text.slice(0, Math.max(cut, this.emitted));
        this.emitted = this.text.length;
        return { delta, stopped: true };
      }
    }
    const safe = this.text.length - this.heldBack();
    const delta = this.text.slice(this.emitted, safe);
    this.emitted = Math.max(this.emitted, safe);
    return { delta, stopped: false };
  }

  /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
  private heldBack(): number {
    let hold = 0;
    const tail = this.text.slice(Math.max(this.emitted, this.text.length - this.maxStop));
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, tail.length); n > hold; n--) {
        if (tail.endsWith(stop.slice(0, n))) {
          hold = n;
          break;
        }
      }
    }
    return hold;
  }
}
