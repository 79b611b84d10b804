export interface PieceOffsetArgs {
  /** Text holding the piece. */
  text: string;
  /** The piece is text[start, end). */
  start: number;
  end: number;
  /** Whether a virtual leading space byte was encoded (it gets an empty span). */
  prefix: boolean;
  /** Whether U+DC80..U+DCFF stand for single raw bytes. */
  escaped: boolean;
  /** Ids of the piece are ids[first…]. */
  ids: number[];
  first: number;
  /** Receives start, end pairs. */
  offsets: number[];
  /** Added to every offset (the piece's text may be a slice). */
  base: number;
  /** Byte length of a token. */
  tokenLength: (id: number) => number;
}

/**
 * Maps each token's byte span within a piece back to UTF-16 offsets: a token starts at the
 * character holding its first byte and ends after the character holding its last byte, so a
 * token inside a multi-byte character spans that whole character.
 */
export function appendPieceOffsets(args: PieceOffsetArgs): void {
  const { text, start: a, end: b, prefix, escaped, ids, first, offsets, base, tokenLength } = args;
  const charAtByte: number[] = [];
  if (prefix) charAtByte.push(-1);
  for (let i = a; i < b; ) {
    const c = text.charCodeAt(i);
    let units = 1;
    let len: number;
    if (c < 0x80) len = 1;
    else if (c < 0x800) len = 2;
    else if (
      c >= 0xd800 &&
      c <= 0xdbff &&
      i + 1 < b &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      len = 4;
      units = 2;
    } else if (escaped && c >= 0xdc80 && c <= 0xdcff) len = 1;
    else len = 3;
    for (let k = 0; k < len; k++) charAtByte.push(i);
    i += units;
  }
  let pos = 0;
  for (let t = first; t < ids.length; t++) {
    const len = tokenLength(ids[t]!);
    const s = charAtByte[pos]!;
    const lastChar = charAtByte[pos + len - 1]!;
    pos += len;
    if (lastChar < 0) {
      offsets.push(base + a, base + a);
      continue;
    }
    const startChar = s < 0 ? a : s;
    const cu = text.charCodeAt(lastChar);
    const endChar = lastChar + (cu >= 0xd800 && cu <= 0xdbff && lastChar + 1 < b ? 2 : 1);
    offsets.push(base + startChar, base + endChar);
  }
}
