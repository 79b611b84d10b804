/**
 * GPT-2 byte-level alphabet: every byte maps to one printable character so a BPE vocab of
 * byte strings can be written as JSON text. Printable Latin-1 bytes map to themselves; the
 * other 68 bytes map to U+0100 + n in byte order (space becomes 'Ġ').
 */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

const CHAR_TO_BYTE = new Map<number, number>(BYTE_TO_CHAR.map((ch, b) => [ch.charCodeAt(0), b]));

function buildByteToChar(): string[] {
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable =
      (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 0x100 + extra++);
  }
  return table;
}

/** Byte-level string (e.g. 'Ġthe') for raw bytes. */
export function bytesToByteLevel(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]!];
  return out;
}

/** Raw bytes of a byte-level string, or undefined when a character is outside the alphabet. */
export function byteLevelToBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const b = CHAR_TO_BYTE.get(text.charCodeAt(i));
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}
