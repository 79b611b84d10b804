import type { DataReport } from '../report.js';
import type { Document } from '../types.js';

/** Which fields of a structured record become the document. */
export interface FieldSelection {
  /** Dot path of the text field (default 'text'). */
  textField?: string;
  /** Dot path of an id field; defaults to `file:line`. */
  idField?: string;
  /** Dot paths copied into `meta` (e.g. a label for stratified splits). */
  metaFields?: string[];
}

/** Reads a dot path (`a.b.c`) from a plain object. */
/** The record fields a selection reads: text, then id and meta fields when named. */
export function selectedFields(fields: FieldSelection): string[] {
  return [
    fields.textField ?? 'text',
    ...(fields.idField ? [fields.idField] : []),
    ...(fields.metaFields ?? []),
  ];
}

export function getPath(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Builds a document from a parsed record, or reports why it cannot (missing field, wrong
 * type) and returns undefined.
 */
export function recordToDocument(options: {
  record: unknown;
  file: string;
  line: number;
  fields: FieldSelection;
  report: DataReport;
}): Document | undefined {
  const { record, file, line, report } = options;
  const textField = options.fields.textField ?? 'text';
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    report.corrupt({
      file,
      line,
      kind: 'wrong-type',
      message: `expected an object, got ${describe(record)}`,
    });
    return undefined;
  }
  const text = getPath(record, textField);
  if (text === undefined || text === null) {
    report.corrupt({
      file,
      line,
      kind: 'missing-field',
      message: `field "${textField}" is missing`,
    });
    return undefined;
  }
  if (typeof text !== 'string') {
    report.corrupt({
      file,
      line,
      kind: 'wrong-type',
      message: `field "${textField}" is ${describe(text)}, expected a string`,
    });
    return undefined;
  }
  let id = `${file}:${line}`;
  if (options.fields.idField) {
    const raw = getPath(record, options.fields.idField);
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'bigint')
      id = String(raw);
  }
  const doc: Document = { id, text, source: { file, line } };
  if (options.fields.metaFields && options.fields.metaFields.length > 0) {
    doc.meta = {};
    for (const field of options.fields.metaFields) {
      const value = getPath(record, field);
      doc.meta[field] = typeof value === 'bigint' ? Number(value) : value;
    }
  }
  return doc;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
