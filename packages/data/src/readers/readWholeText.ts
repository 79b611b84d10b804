import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import type { InvalidUtf8Policy } from './decodeLine.js';
import { decodeLine } from './decodeLine.js';

/** Raw bytes of one small file (read whole), or why it could not be read. */
export type LoadedFile =
  | { file: string; bytes: Buffer; raw: number }
  | { file: string; error: Error; raw: number };

/**
 * Reads a whole file (gunzipping it when it starts with the gzip magic), refusing anything
 * that would exceed `maxBytes` once decompressed so memory stays bounded. Synchronous on
 * purpose: for directories of small files (mail, speeches) the promise-based open/stat/read/
 * close round trips cost several times more CPU than the reads themselves, and a batch of
 * small reads blocks the event loop for about a millisecond.
 */
export function loadWholeFile(file: string, maxBytes: number): LoadedFile {
  let raw = 0;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    raw = size;
    if (size > maxBytes) return { file, raw, error: new Error(`document over ${maxBytes} bytes`) };
    let bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const n = readSync(fd, bytes, filled, size - filled, null);
      if (n === 0) break;
      filled += n;
    }
    if (filled < size) bytes = bytes.subarray(0, filled);
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
    return { file, bytes, raw };
  } catch (error) {
    return { file, raw, error: error as Error };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * One document per file from already-loaded bytes; same result and the same report entries
 * as streaming it with readText({ unit: 'file' }), without a stream per small file.
 */
export function wholeTextDocument(options: {
  loaded: LoadedFile;
  report: DataReport;
  invalidUtf8?: InvalidUtf8Policy;
}): Document | undefined {
  const { loaded, report } = options;
  const { file } = loaded;
  if ('error' in loaded) {
    const tooLarge =
      /document over/.test(loaded.error.message) ||
      /Cannot create a Buffer larger|maxOutputLength/i.test(loaded.error.message);
    report.corrupt({
      file,
      line: 1,
      kind: tooLarge ? 'too-large' : 'read-error',
      message: loaded.error.message,
    });
    report.addInput(file, loaded.raw, 1);
    return undefined;
  }
  report.addInput(file, loaded.raw, 1);
  let text: string | undefined;
  if (isUtf8(loaded.bytes)) text = loaded.bytes.toString('utf8');
  else text = decodeByLines(loaded.bytes, file, report, options.invalidUtf8 ?? 'skip');
  if (text === undefined) return undefined;
  if (text.includes('\r')) text = text.replace(/\r\n/g, '\n').replace(/\r$/, '');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.trim() === '') return undefined;
  return { id: file, text, source: { file, line: 1 } };
}

/** Line-by-line decoding so every bad line is reported by number (only the first under 'skip'). */
function decodeByLines(
  bytes: Buffer,
  file: string,
  report: DataReport,
  policy: InvalidUtf8Policy,
): string | undefined {
  const parts: string[] = [];
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const decoded = decodeLine({ bytes: bytes.subarray(start, end), file, line, report, policy });
    if (decoded === undefined) return undefined;
    parts.push(decoded);
    start = end + 1;
    line++;
  }
  return parts.join('\n');
}
