/**
 * Per-thread scratch copy of a one-byte (Latin-1) string's characters. Loops over a
 * Uint8Array run about twice as fast as `charCodeAt` loops in V8, and the copy itself is a
 * native memcpy (`latin1` writes of one-byte strings). Two-byte strings get undefined; the
 * test for them is free on one-byte strings (V8 rejects a pattern that cannot match any
 * Latin-1 character without scanning).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the Latin-1 range starts at U+0000.
const BEYOND_LATIN1 = /[^\x00-\xff]/;

let buffer = Buffer.alloc(0);
let bytes = new Uint8Array(0);

/**
 * The characters of `text` as bytes followed by one space (a sentinel: scans that end words at
 * whitespace can run to index `text.length` inclusive and need no code after their loop, which
 * V8 would reach without type feedback and deoptimise on), or undefined when `text` has a
 * character above U+00FF. The view is reused by the next call (on this thread): read it before
 * calling again, never keep it.
 */
export function latin1Codes(text: string): Uint8Array | undefined {
  // Stages ask for the same text more than once in a row: the copy is still in the buffer.
  if (text === lastText) return lastCodes;
  lastText = text;
  lastCodes = copyLatin1(text);
  return lastCodes;
}

let lastText: string | undefined;
let lastCodes: Uint8Array | undefined;

function copyLatin1(text: string): Uint8Array | undefined {
  if (BEYOND_LATIN1.test(text)) return undefined;
  if (buffer.length < text.length + 1) {
    buffer = Buffer.allocUnsafeSlow(Math.max(text.length + 1, 2 * buffer.length, 1 << 16));
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  }
  buffer.write(text, 0, text.length, 'latin1');
  bytes[text.length] = 32;
  return bytes;
}
