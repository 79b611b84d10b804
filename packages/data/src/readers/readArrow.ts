import { open, stat } from 'node:fs/promises';
import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { type FieldSelection, recordToDocument, selectedFields } from './recordToDocument.js';

/**
 * Streams an Arrow IPC file or stream one record batch at a time (memory bounded by the
 * largest batch). Rows whose text column is null or not a string are reported by row number.
 */
export async function* readArrow(options: {
  file: string;
  report: DataReport;
  fields?: FieldSelection;
}): AsyncGenerator<Document> {
  const { file, report } = options;
  const fields = options.fields ?? {};
  const columns = selectedFields(fields);
  const size = (await stat(file)).size;
  let rows = 0;
  const handle = await open(file, 'r');
  try {
    // Loaded on first use: apache-arrow costs ~0.2 s of start-up that other inputs never need.
    const { RecordBatchReader } = await import('apache-arrow');
    const reader = await RecordBatchReader.from(handle);
    await reader.open();
    for await (const batch of reader) {
      const vectors = columns.map((name) => batch.getChild(topLevel(name)));
      for (let i = 0; i < batch.numRows; i++) {
        rows++;
        const record: Record<string, unknown> = {};
        columns.forEach((name, c) => {
          const value = vectors[c]?.get(i);
          record[topLevel(name)] =
            value !== null && typeof value === 'object' && 'toJSON' in value
              ? value.toJSON()
              : value;
        });
        const doc = recordToDocument({ record, file, line: rows, fields, report });
        if (doc) yield doc;
      }
    }
  } catch (error) {
    report.corrupt({
      file,
      line: rows + 1,
      kind: 'read-error',
      message: `Arrow: ${(error as Error).message}`,
    });
  } finally {
    await handle.close();
    report.addInput(file, size, rows);
  }
}

function topLevel(path: string): string {
  return path.split('.')[0]!;
}
