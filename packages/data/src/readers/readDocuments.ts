import { extname } from 'node:path';
import { DataError } from '../errors.js';
import { DataReport } from '../report.js';
import type { Document } from '../types.js';
import type { InvalidUtf8Policy } from './decodeLine.js';
import { expandInputs } from './expandInputs.js';
import { stripGzipExtension } from './openInput.js';
import { readArrow } from './readArrow.js';
import { readCsv } from './readCsv.js';
import { readJsonl } from './readJsonl.js';
import { readParquet } from './readParquet.js';
import { type TextUnit, readText } from './readText.js';
import { loadWholeFile, wholeTextDocument } from './readWholeText.js';
import type { FieldSelection } from './recordToDocument.js';

export type InputFormat = 'text' | 'jsonl' | 'csv' | 'tsv' | 'parquet' | 'arrow';

export interface ReadDocumentsOptions extends FieldSelection {
  /** Files, directories (read recursively) or globs such as `data/**\/*.jsonl.gz`. */
  inputs: string[];
  /** Input format; 'auto' (default) decides per file from its extension (after `.gz`). */
  format?: InputFormat | 'auto';
  /** For plain text: one document per file (default), paragraph or line. */
  textUnit?: TextUnit;
  /** 'skip' (default) reports and drops records with invalid UTF-8; 'replace' keeps them with U+FFFD. */
  invalidUtf8?: InvalidUtf8Policy;
  /** Upper bound on one record/document in bytes (default 64 MiB); larger ones are reported and skipped. */
  maxRecordBytes?: number;
  /** Report that receives input counts and corrupt records (a fresh one is used when absent). */
  report?: DataReport;
  /** Base directory for relative inputs (default process.cwd()). */
  cwd?: string;
}

/** Picks a reader from a file name: `.jsonl/.ndjson/.json`, `.csv`, `.tsv`, `.parquet`, `.arrow/.arrows/.feather/.ipc`, else text. */
export function detectFormat(file: string): InputFormat {
  const ext = extname(stripGzipExtension(file)).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.arrow' || ext === '.arrows' || ext === '.feather' || ext === '.ipc') return 'arrow';
  return 'text';
}

/**
 * Streams documents from every input in order, whatever their formats. Memory stays bounded
 * by the largest single record (or Parquet row group / Arrow batch). Problems with single
 * records go to `report`, never stop the run.
 */
export async function* readDocuments(options: ReadDocumentsOptions): AsyncGenerator<Document> {
  const report = options.report ?? new DataReport();
  if (options.inputs.length === 0)
    throw new DataError('no inputs given', { code: 'INPUT_MISSING', context: { field: 'inputs' } });
  const files = await expandInputs({ patterns: options.inputs, cwd: options.cwd });
  const fields: FieldSelection = {
    textField: options.textField,
    idField: options.idField,
    metaFields: options.metaFields,
  };
  const formats = files.map((file) =>
    !options.format || options.format === 'auto' ? detectFormat(file) : options.format,
  );
  const wholeFile = (i: number) => formats[i] === 'text' && (options.textUnit ?? 'file') === 'file';
  const maxBytes = options.maxRecordBytes ?? 64 << 20;
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const format = formats[i]!;
    if (wholeFile(i)) {
      const loaded = loadWholeFile(file, maxBytes);
      const doc = wholeTextDocument({ loaded, report, invalidUtf8: options.invalidUtf8 });
      if (doc) yield doc;
      continue;
    }
    const common = { file, report, fields, invalidUtf8: options.invalidUtf8 };
    if (format === 'jsonl') yield* readJsonl({ ...common, maxLineBytes: options.maxRecordBytes });
    else if (format === 'csv' || format === 'tsv')
      yield* readCsv({
        ...common,
        delimiter: format === 'tsv' ? '\t' : ',',
        maxRecordBytes: options.maxRecordBytes,
      });
    else if (format === 'parquet') yield* readParquet(common);
    else if (format === 'arrow') yield* readArrow(common);
    else
      yield* readText({
        ...common,
        unit: options.textUnit,
        maxDocumentBytes: options.maxRecordBytes,
      });
  }
}
