import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { type InvalidUtf8Policy, decodeLine } from './decodeLine.js';
import { openInput } from './openInput.js';
import { readLines } from './readLines.js';
import { type FieldSelection, recordToDocument } from './recordToDocument.js';

/**
 * Streams an RFC 4180 CSV (or TSV) file with a header row. Quoted fields may span lines; the
 * record's first line is the one reported. Rows with the wrong number of fields or an
 * unterminated quote are reported and skipped.
 */
export async function* readCsv(options: {
  file: string;
  report: DataReport;
  fields?: FieldSelection;
  delimiter?: string;
  invalidUtf8?: InvalidUtf8Policy;
  maxRecordBytes?: number;
}): AsyncGenerator<Document> {
  const { file, report } = options;
  const delimiter = options.delimiter ?? ',';
  const maxRecord = options.maxRecordBytes ?? 64 << 20;
  let bytes = 0;
  let records = 0;
  const stream = await openInput(file, (n) => {
    bytes += n;
  });
  let header: string[] | undefined;
  const parser = new CsvRecordParser(delimiter);
  let recordLine = 0;
  let skip = false;
  try {
    for await (const raw of readLines(stream, maxRecord)) {
      if (!parser.inRecord) {
        recordLine = raw.line;
        skip = false;
      }
      const text = raw.tooLong
        ? undefined
        : decodeLine({
            bytes: raw.bytes,
            file,
            line: raw.line,
            report,
            policy: options.invalidUtf8 ?? 'skip',
          });
      if (raw.tooLong)
        report.corrupt({
          file,
          line: raw.line,
          kind: 'too-large',
          message: 'line longer than maxRecordBytes',
        });
      if (text === undefined) skip = true;
      const row = parser.feed(text ?? '');
      if (parser.pendingChars > maxRecord) {
        report.corrupt({
          file,
          line: recordLine,
          kind: 'too-large',
          message: 'quoted field never closes within maxRecordBytes',
        });
        parser.reset();
        continue;
      }
      if (!row) continue;
      if (skip) {
        records++;
        continue;
      }
      if (!header) {
        header = row;
        continue;
      }
      if (row.length === 1 && row[0] === '') continue;
      records++;
      if (row.length !== header.length) {
        report.corrupt({
          file,
          line: recordLine,
          kind: 'csv-syntax',
          message: `expected ${header.length} fields, found ${row.length}`,
        });
        continue;
      }
      const record: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) record[header[i]!] = row[i]!;
      const doc = recordToDocument({
        record,
        file,
        line: recordLine,
        fields: options.fields ?? {},
        report,
      });
      if (doc) yield doc;
    }
    if (parser.inRecord) {
      records++;
      report.corrupt({
        file,
        line: recordLine,
        kind: 'csv-syntax',
        message: 'unterminated quoted field at end of file',
      });
    }
  } catch (error) {
    report.corrupt({
      file,
      line: recordLine,
      kind: 'read-error',
      message: (error as Error).message,
    });
  } finally {
    stream.destroy();
    report.addInput(file, bytes, records);
  }
}

/** Incremental CSV parser fed one line at a time; returns a row when one completes. */
export class CsvRecordParser {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  private open = false;

  constructor(private readonly delimiter: string) {}

  get inRecord(): boolean {
    return this.open;
  }

  get pendingChars(): number {
    return this.field.length;
  }

  reset(): void {
    this.fields = [];
    this.field = '';
    this.quoted = false;
    this.open = false;
  }

  feed(line: string): string[] | undefined {
    if (this.open) this.field += '\n';
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (this.quoted) {
        if (c === '"') {
          if (line[i + 1] === '"') {
            this.field += '"';
            i += 2;
            continue;
          }
          this.quoted = false;
        } else this.field += c;
        i++;
        continue;
      }
      if (c === '"' && this.field === '') this.quoted = true;
      else if (c === this.delimiter) {
        this.fields.push(this.field);
        this.field = '';
      } else this.field += c;
      i++;
    }
    if (this.quoted) {
      this.open = true;
      return undefined;
    }
    this.fields.push(this.field);
    const row = this.fields;
    this.fields = [];
    this.field = '';
    this.open = false;
    return row;
  }
}
