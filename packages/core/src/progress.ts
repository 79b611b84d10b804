export interface ProgressOptions {
  /** Label shown before the bar, e.g. 'train'. */
  label: string;
  /** Total units of work, when known (enables the bar and ETA). */
  total?: number;
  /** Output stream. Default: process.stderr. */
  stream?: NodeJS.WritableStream;
  /** Force 'bar' (TTY) or 'json' (one JSON line per update). Default: bar on a TTY. */
  mode?: 'bar' | 'json';
  /** Minimum milliseconds between renders; JSON mode always writes finish(). Default 200. */
  throttleMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface ProgressUpdate {
  current: number;
  total?: number;
  /** Fraction in [0,1] when total is known. */
  fraction?: number;
  /** Units per second since start. */
  rate: number;
  /** Seconds left, when total is known and rate > 0. */
  etaSeconds?: number;
  fields: Record<string, number | string>;
}

/**
 * Progress reporter: a one-line bar redrawn in place on a TTY, JSON lines otherwise
 * (logs and CI). Extra fields (loss, lr, tokens/s…) ride along with each update.
 */
export class ProgressReporter {
  private readonly stream: NodeJS.WritableStream;
  private readonly mode: 'bar' | 'json';
  private readonly now: () => number;
  private readonly started: number;
  private lastRender = Number.NEGATIVE_INFINITY;
  private current = 0;
  private fields: Record<string, number | string> = {};

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.mode ?? ((this.stream as { isTTY?: boolean }).isTTY ? 'bar' : 'json');
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  /** Sets the absolute position and optional fields; renders if the throttle allows. */
  update(current: number, fields: Record<string, number | string> = {}): void {
    this.current = current;
    this.fields = { ...this.fields, ...fields };
    const t = this.now();
    if (t - this.lastRender >= (this.options.throttleMs ?? 200)) {
      this.lastRender = t;
      this.render(false);
    }
  }

  /** Advances by `delta` units. */
  tick(delta = 1, fields: Record<string, number | string> = {}): void {
    this.update(this.current + delta, fields);
  }

  /** Final render (always written). */
  finish(fields: Record<string, number | string> = {}): ProgressUpdate {
    this.fields = { ...this.fields, ...fields };
    return this.render(true);
  }

  snapshot(): ProgressUpdate {
    const elapsed = Math.max(1e-9, (this.now() - this.started) / 1000);
    const rate = this.current / elapsed;
    const total = this.options.total;
    const update: ProgressUpdate = { current: this.current, rate, fields: { ...this.fields } };
    if (total !== undefined && total > 0) {
      update.total = total;
      update.fraction = Math.min(1, this.current / total);
      if (rate > 0) update.etaSeconds = Math.max(0, (total - this.current) / rate);
    }
    return update;
  }

  private render(final: boolean): ProgressUpdate {
    const snap = this.snapshot();
    if (this.mode === 'json') {
      this.stream.write(`${JSON.stringify({ progress: this.options.label, final, ...snap })}\n`);
      return snap;
    }
    const width = 24;
    const filled = snap.fraction === undefined ? 0 : Math.round(snap.fraction * width);
    const bar = snap.fraction === undefined ? '' : `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] `;
    const count = snap.total === undefined ? `${snap.current}` : `${snap.current}/${snap.total}`;
    const extras = Object.entries(snap.fields)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`)
      .join(' ');
    const eta = snap.etaSeconds === undefined ? '' : ` eta ${formatDuration(snap.etaSeconds)}`;
    this.stream.write(`\r${this.options.label} ${bar}${count} ${extras}${eta}\x1b[K${final ? '\n' : ''}`);
    return snap;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
