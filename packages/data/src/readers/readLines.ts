import type { Readable } from 'node:stream';

/** One raw line: its bytes (without the line break) and its 1-based number. */
export interface RawLine {
  bytes: Buffer;
  line: number;
  /** Set when the line exceeded `maxLineBytes`; `bytes` is then empty. */
  tooLong?: boolean;
}

/**
 * Splits a byte stream into lines without decoding, so invalid UTF-8 can be reported per line.
 * Memory is bounded by `maxLineBytes`: a longer line is skipped and flagged, not buffered.
 */
export async function* readLines(
  stream: Readable,
  maxLineBytes = 64 << 20,
): AsyncGenerator<RawLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  let lineNo = 0;
  const finish = (tail: Buffer): RawLine => {
    lineNo++;
    if (skipping) {
      skipping = false;
      pending = [];
      pendingBytes = 0;
      return { bytes: Buffer.alloc(0), line: lineNo, tooLong: true };
    }
    let bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d)
      bytes = bytes.subarray(0, bytes.length - 1);
    return { bytes, line: lineNo };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      yield finish(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      const rest = chunk.subarray(start);
      pendingBytes += rest.length;
      // Copy: the stream may reuse its chunk buffers.
      pending.push(Buffer.from(rest));
      if (pendingBytes > maxLineBytes) {
        skipping = true;
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0 || skipping) yield finish(Buffer.alloc(0));
}
