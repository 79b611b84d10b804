/** Why an input record could not be turned into a document. */
export type CorruptKind =
  | 'invalid-utf8'
  | 'invalid-json'
  | 'wrong-type'
  | 'missing-field'
  | 'csv-syntax'
  | 'too-large'
  | 'read-error';

/** One unusable input record, located by file and 1-based line (or row) number. */
export interface CorruptRecord {
  file: string;
  line: number;
  kind: CorruptKind;
  message: string;
}

/** Counts for one cleaning or dedup stage. */
export interface StageStats {
  name: string;
  /** Documents that entered the stage. */
  input: number;
  /** Documents that left it (splitting can make this larger than `input`). */
  output: number;
  /** Documents rejected. */
  dropped: number;
  /** Documents whose text the stage changed. */
  modified: number;
  /** Rejection counts by reason code. */
  reasons: Record<string, number>;
  /** A few rejected documents with their reason, for eyeballing. */
  samples: Array<{ id: string; reason: string; detail?: string }>;
}

/** The serialisable form of a {@link DataReport}. */
export interface DataReportJSON {
  input: { files: number; records: number; bytes: number };
  output: { documents: number; chars: number };
  corrupt: {
    total: number;
    byKind: Record<string, number>;
    records: CorruptRecord[];
    unlisted: number;
  };
  stages: StageStats[];
  elapsedMs: number;
}

export interface DataReportOptions {
  /** Rejection samples kept per stage (default 5). */
  maxSamples?: number;
  /** Corrupt records listed individually (default 1000); the rest are still counted in `unlisted`. */
  maxCorruptListed?: number;
}

/**
 * Collects what happened during a run. Corrupt records are always counted; only the listing
 * is capped, and the number left unlisted is reported so nothing silently disappears.
 */
export class DataReport {
  readonly maxSamples: number;
  readonly maxCorruptListed: number;
  private readonly stageMap = new Map<string, StageStats>();
  private readonly corruptRecords: CorruptRecord[] = [];
  private corruptTotal = 0;
  private corruptUnlisted = 0;
  private readonly corruptByKind: Record<string, number> = {};
  private readonly files = new Set<string>();
  private records = 0;
  private bytes = 0;
  private outDocs = 0;
  private outChars = 0;
  private readonly started = performance.now();

  constructor(options: DataReportOptions = {}) {
    this.maxSamples = options.maxSamples ?? 5;
    this.maxCorruptListed = options.maxCorruptListed ?? 1000;
  }

  /** Records an unusable input record. */
  corrupt(record: CorruptRecord): void {
    this.corruptTotal++;
    this.corruptByKind[record.kind] = (this.corruptByKind[record.kind] ?? 0) + 1;
    if (this.corruptRecords.length < this.maxCorruptListed) this.corruptRecords.push(record);
    else this.corruptUnlisted++;
  }

  /** Notes bytes read from a file and the records found there. */
  addInput(file: string, bytes: number, records = 0): void {
    this.files.add(file);
    this.bytes += bytes;
    this.records += records;
  }

  /** Counts one document written out. */
  addOutput(chars: number): void {
    this.outDocs++;
    this.outChars += chars;
  }

  /** The (created on first use) counters of a stage; stages appear in first-use order. */
  stage(name: string): StageStats {
    let stats = this.stageMap.get(name);
    if (!stats) {
      stats = { name, input: 0, output: 0, dropped: 0, modified: 0, reasons: {}, samples: [] };
      this.stageMap.set(name, stats);
    }
    return stats;
  }

  /** Records a rejection in `stage`'s counters. */
  reject(stage: StageStats, id: string, reason: string, detail?: string): void {
    stage.dropped++;
    stage.reasons[reason] = (stage.reasons[reason] ?? 0) + 1;
    if (stage.samples.length < this.maxSamples)
      stage.samples.push(detail ? { id, reason, detail } : { id, reason });
  }

  /** Adds stage counters computed elsewhere (e.g. in a worker thread). */
  mergeStages(stages: StageStats[]): void {
    for (const other of stages) {
      const mine = this.stage(other.name);
      mine.input += other.input;
      mine.output += other.output;
      mine.dropped += other.dropped;
      mine.modified += other.modified;
      for (const [reason, count] of Object.entries(other.reasons))
        mine.reasons[reason] = (mine.reasons[reason] ?? 0) + count;
      for (const sample of other.samples)
        if (mine.samples.length < this.maxSamples) mine.samples.push(sample);
    }
  }

  get corruptCount(): number {
    return this.corruptTotal;
  }

  toJSON(): DataReportJSON {
    return {
      input: { files: this.files.size, records: this.records, bytes: this.bytes },
      output: { documents: this.outDocs, chars: this.outChars },
      corrupt: {
        total: this.corruptTotal,
        byKind: { ...this.corruptByKind },
        records: [...this.corruptRecords],
        unlisted: this.corruptUnlisted,
      },
      stages: [...this.stageMap.values()].map((s) => ({
        ...s,
        reasons: { ...s.reasons },
        samples: [...s.samples],
      })),
      elapsedMs: Math.round(performance.now() - this.started),
    };
  }

  /** A few lines for humans: input, per-stage kept/dropped with top reasons, corrupt records. */
  summary(): string {
    const json = this.toJSON();
    const mb = (json.input.bytes / 1e6).toFixed(2);
    const lines = [
      `read ${json.input.files} file(s), ${json.input.records} record(s), ${mb} MB in ${(json.elapsedMs / 1000).toFixed(1)} s`,
    ];
    for (const s of json.stages) {
      const top = Object.entries(s.reasons)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
      const modified = s.modified > 0 ? `, modified ${s.modified}` : '';
      lines.push(
        `  ${s.name}: in ${s.input}, out ${s.output}, dropped ${s.dropped}${modified}${top ? ` (${top})` : ''}`,
      );
    }
    lines.push(`wrote ${json.output.documents} document(s), ${json.output.chars} chars`);
    if (json.corrupt.total > 0) {
      const first = json.corrupt.records[0];
      const kinds = Object.entries(json.corrupt.byKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      lines.push(
        `corrupt records: ${json.corrupt.total} (${kinds})${first ? `; first: ${first.file}:${first.line} ${first.message}` : ''}`,
      );
    }
    return lines.join('\n');
  }
}
