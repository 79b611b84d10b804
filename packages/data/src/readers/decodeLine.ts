import { isUtf8 } from 'node:buffer';
import type { DataReport } from '../report.js';

/** What to do with bytes that are not valid UTF-8. */
export type InvalidUtf8Policy = 'skip' | 'replace';

/**
 * Decodes one line, reporting invalid UTF-8 with file and line. Returns undefined when the
 * record must be skipped (policy 'skip'); with 'replace' bad bytes become U+FFFD and the
 * line is still counted in the report.
 */
export function decodeLine(options: {
  bytes: Buffer;
  file: string;
  line: number;
  report: DataReport;
  policy: InvalidUtf8Policy;
}): string | undefined {
  const { bytes } = options;
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const offset = firstInvalidOffset(bytes);
  options.report.corrupt({
    file: options.file,
    line: options.line,
    kind: 'invalid-utf8',
    message: `invalid UTF-8 at byte ${offset}${options.policy === 'replace' ? ' (replaced with U+FFFD)' : ''}`,
  });
  return options.policy === 'replace' ? bytes.toString('utf8') : undefined;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidOffset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}
