/**
 * UTF-8 conversion that never loses information: lone surrogates are written as 3-byte
 * WTF-8 sequences (and read back as lone surrogates), and in byte-input mode U+DC80..U+DCFF
 * stand for raw invalid bytes (Python's "surrogateescape"), so any byte string round-trips.
 */

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Writes the UTF-8 (WTF-8) bytes of text[start, end) into `out` (needs 3 bytes per code
 * unit) and returns the byte count. With `escapedBytes`, lone U+DC80..U+DCFF become the
 * single raw byte they stand for.
 */
export function encodeUtf8Into(
  text: string,
  start: number,
  end: number,
  out: Uint8Array,
  escapedBytes = false,
): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 63);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
      } else if (escapedBytes && c >= 0xdc80 && c <= 0xdcff) {
        out[n++] = c - 0xdc00;
      } else {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
      }
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 63);
      out[n++] = 0x80 | (c & 63);
    }
  }
  return n;
}

/** UTF-8 (WTF-8) bytes of a whole string. */
export function encodeUtf8(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  return out.slice(0, encodeUtf8Into(text, 0, text.length, out));
}

/**
 * Decodes bytes to a string. Valid UTF-8 and WTF-8 surrogates decode exactly; each maximal
 * invalid subpart becomes U+FFFD (as TextDecoder and Rust's from_utf8_lossy do), or, with
 * `escapeInvalid`, each invalid byte b becomes U+DC00+b so the bytes can be recovered.
 */
export function decodeUtf8(bytes: Uint8Array, escapeInvalid = false): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return decodeSlow(bytes, escapeInvalid);
  }
}

/** Length of the valid sequence starting at i (1..4), or -k where k bytes form an invalid maximal subpart. */
function sequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    if (b0 === 0xe0) lo = 0xa0;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f;
  } else return -1;
  for (let k = 1; k <= need; k++) {
    if (i + k >= end) return -k;
    const b = bytes[i + k]!;
    if (k === 1 ? b < lo || b > hi : b < 0x80 || b > 0xbf) return -k;
  }
  return need + 1;
}

function decodeSlow(bytes: Uint8Array, escapeInvalid: boolean): string {
  const units: number[] = [];
  let out = '';
  const end = bytes.length;
  let i = 0;
  while (i < end) {
    const len = sequenceLength(bytes, i, end);
    const b0 = bytes[i]!;
    if (len === 1) units.push(b0);
    else if (len === 2) units.push(((b0 & 31) << 6) | (bytes[i + 1]! & 63));
    else if (len === 3)
      units.push(((b0 & 15) << 12) | ((bytes[i + 1]! & 63) << 6) | (bytes[i + 2]! & 63));
    else if (len === 4) {
      const cp =
        ((b0 & 7) << 18) |
        ((bytes[i + 1]! & 63) << 12) |
        ((bytes[i + 2]! & 63) << 6) |
        (bytes[i + 3]! & 63);
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 1023));
    } else if (escapeInvalid) {
      for (let k = 0; k < -len; k++) units.push(0xdc00 + bytes[i + k]!);
    } else units.push(0xfffd);
    i += len > 0 ? len : -len;
    if (units.length > 8192) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}

/**
 * Number of trailing bytes that form an incomplete (but so far valid) UTF-8 sequence, so a
 * streaming decoder can hold them back until the rest arrives.
 */
export function incompleteTail(bytes: Uint8Array, end: number): number {
  for (let back = 1; back <= 3 && back <= end; back++) {
    const i = end - back;
    const b = bytes[i]!;
    if (b >= 0x80 && b <= 0xbf) continue;
    if (b < 0xc2 || b > 0xf4) return 0;
    return sequenceLength(bytes, i, end) === -back ? back : 0;
  }
  return 0;
}
