import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { type FieldSelection, recordToDocument, selectedFields } from './recordToDocument.js';

/**
 * Streams a Parquet file one row group at a time through `hyparquet` (memory bounded by the
 * largest row group). Bad rows are reported by 1-based row number.
 */
export async function* readParquet(options: {
  file: string;
  report: DataReport;
  fields?: FieldSelection;
}): AsyncGenerator<Document> {
  const { file, report } = options;
  const fields = options.fields ?? {};
  const columns = [...new Set(selectedFields(fields).map(topLevel))];
  let rows = 0;
  let size = 0;
  try {
    // Loaded on first use, like apache-arrow for Arrow inputs.
    const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import(
      'hyparquet'
    );
    const buffer = await asyncBufferFromFile(file);
    size = buffer.byteLength;
    const metadata = await parquetMetadataAsync(buffer);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const records = await parquetReadObjects({
        file: buffer,
        metadata,
        columns,
        rowStart,
        rowEnd,
      });
      for (const record of records) {
        rows++;
        const doc = recordToDocument({ record, file, line: rows, fields, report });
        if (doc) yield doc;
      }
      rowStart = rowEnd;
    }
  } catch (error) {
    report.corrupt({
      file,
      line: rows + 1,
      kind: 'read-error',
      message: `Parquet: ${(error as Error).message}`,
    });
  } finally {
    report.addInput(file, size, rows);
  }
}

function topLevel(path: string): string {
  return path.split('.')[0]!;
}
