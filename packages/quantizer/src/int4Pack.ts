import { fail } from './errors.js';

/**
 * Packs 4-bit codes (0..15) two per byte, low nibble first: for a row-major `[rows][cols]`
 * matrix, byte `r·cols/2 + c/2` holds column `c` (even) in bits 0-3 and `c+1` in bits 4-7.
 * This is the layout `@deepline/kernels-wasm` reads (`gemmInt4`). `cols` must be even.
 */
export function packInt4(codes: Uint8Array, rows: number, cols: number): Uint8Array {
  if (cols % 2 !== 0) fail('INT4_ODD_COLUMNS', `int4 packing needs an even column count, got ${cols}`, { field: 'cols', shape: [rows, cols] });
  if (codes.length !== rows * cols) {
    fail('INT4_SIZE', `int4 packing: ${codes.length} codes do not fill [${rows}, ${cols}]`, { shape: [rows, cols] });
  }
  const packed = new Uint8Array(codes.length / 2);
  for (let i = 0, b = 0; i < codes.length; i += 2, b++) {
    const lo = codes[i]!;
    const hi = codes[i + 1]!;
    if (lo > 15 || hi > 15) fail('INT4_RANGE', `int4 code ${Math.max(lo, hi)} at index ${lo > 15 ? i : i + 1} is outside 0..15`);
    packed[b] = lo | (hi << 4);
  }
  return packed;
}

/** Inverse of {@link packInt4}: returns one code (0..15) per element. */
export function unpackInt4(packed: Uint8Array, count: number = packed.length * 2): Uint8Array {
  if (count > packed.length * 2 || count < packed.length * 2 - 1) {
    fail('INT4_SIZE', `int4 unpacking: ${packed.length} bytes cannot hold ${count} codes`);
  }
  const codes = new Uint8Array(count);
  for (let b = 0; b < packed.length; b++) {
    const byte = packed[b]!;
    codes[2 * b] = byte & 15;
    if (2 * b + 1 < count) codes[2 * b + 1] = byte >> 4;
  }
  return codes;
}
