import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { type InvalidUtf8Policy, decodeLine } from './decodeLine.js';
import { openInput } from './openInput.js';
import { readLines } from './readLines.js';
import { type FieldSelection, recordToDocument } from './recordToDocument.js';

/**
 * Streams a JSON Lines file (optionally gzipped). Bad JSON, invalid UTF-8, missing fields and
 * wrong types are reported with file and line and skipped; blank lines are ignored.
 */
export async function* readJsonl(options: {
  file: string;
  report: DataReport;
  fields?: FieldSelection;
  invalidUtf8?: InvalidUtf8Policy;
  maxLineBytes?: number;
}): AsyncGenerator<Document> {
  const { file, report } = options;
  let bytes = 0;
  const stream = await openInput(file, (n) => {
    bytes += n;
  });
  let records = 0;
  try {
    for await (const raw of readLines(stream, options.maxLineBytes)) {
      if (raw.tooLong) {
        records++;
        report.corrupt({
          file,
          line: raw.line,
          kind: 'too-large',
          message: 'line longer than maxLineBytes',
        });
        continue;
      }
      if (raw.bytes.length === 0) continue;
      records++;
      const text = decodeLine({
        bytes: raw.bytes,
        file,
        line: raw.line,
        report,
        policy: options.invalidUtf8 ?? 'skip',
      });
      if (text === undefined || text.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (error) {
        report.corrupt({
          file,
          line: raw.line,
          kind: 'invalid-json',
          message: (error as Error).message,
        });
        continue;
      }
      const doc = recordToDocument({
        record,
        file,
        line: raw.line,
        fields: options.fields ?? {},
        report,
      });
      if (doc) yield doc;
    }
  } catch (error) {
    report.corrupt({
      file,
      line: records + 1,
      kind: 'read-error',
      message: (error as Error).message,
    });
  } finally {
    stream.destroy();
    report.addInput(file, bytes, records);
  }
}
