import type { DataReport } from '../report.js';
import type { Document } from '../types.js';
import { type InvalidUtf8Policy, decodeLine } from './decodeLine.js';
import { openInput } from './openInput.js';
import { readLines } from './readLines.js';

/** How plain text is cut into documents. */
export type TextUnit = 'file' | 'paragraph' | 'line';

/**
 * Streams a plain-text file (optionally gzipped) as documents: the whole file, each
 * blank-line-separated paragraph, or each line. A document larger than `maxDocumentBytes` is
 * reported as too large and skipped, which keeps memory bounded.
 */
export async function* readText(options: {
  file: string;
  report: DataReport;
  unit?: TextUnit;
  invalidUtf8?: InvalidUtf8Policy;
  maxDocumentBytes?: number;
}): AsyncGenerator<Document> {
  const { file, report } = options;
  const unit = options.unit ?? 'file';
  const maxBytes = options.maxDocumentBytes ?? 64 << 20;
  const policy = options.invalidUtf8 ?? 'skip';
  let bytes = 0;
  let records = 0;
  const stream = await openInput(file, (n) => {
    bytes += n;
  });
  let parts: string[] = [];
  let partBytes = 0;
  let startLine = 1;
  let bad = false;
  let tooLarge = false;
  const flush = (): Document | undefined => {
    const text = parts.join('\n');
    const doc: Document | undefined =
      bad || tooLarge || text.trim() === ''
        ? undefined
        : {
            id: unit === 'file' ? file : `${file}:${startLine}`,
            text,
            source: { file, line: startLine },
          };
    if (tooLarge)
      report.corrupt({
        file,
        line: startLine,
        kind: 'too-large',
        message: `document over ${maxBytes} bytes`,
      });
    if (parts.length > 0 || tooLarge || bad) records++;
    parts = [];
    partBytes = 0;
    bad = false;
    tooLarge = false;
    return doc;
  };
  try {
    for await (const raw of readLines(stream, maxBytes)) {
      if (unit === 'paragraph' && raw.bytes.length === 0 && !raw.tooLong) {
        const doc = flush();
        if (doc) yield doc;
        startLine = raw.line + 1;
        continue;
      }
      if (parts.length === 0 && unit !== 'file') startLine = raw.line;
      if (raw.tooLong || partBytes + raw.bytes.length > maxBytes) tooLarge = true;
      if (!tooLarge && !bad) {
        const line = decodeLine({ bytes: raw.bytes, file, line: raw.line, report, policy });
        // One bad line spoils its whole document under 'skip'; the report names that line.
        if (line === undefined) bad = true;
        else {
          parts.push(line);
          partBytes += raw.bytes.length + 1;
        }
      }
      if (unit === 'line') {
        const doc = flush();
        if (doc) yield doc;
      }
    }
    const doc = flush();
    if (doc) yield doc;
  } catch (error) {
    report.corrupt({
      file,
      line: startLine,
      kind: 'read-error',
      message: (error as Error).message,
    });
  } finally {
    stream.destroy();
    report.addInput(file, bytes, records);
  }
}
