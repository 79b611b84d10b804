import type { Int4Weight, Int8Weight, QuantizedWeight } from './quantizedWeight.js';

/**
 * Dequantizes rows `[rowStart, rowEnd)` of a packed weight into `out` (row-major, `cols`
 * per row, starting at out[0]). Used by the just-in-time matmul fallback, so it avoids
 * allocation: int4 decodes through a 16-entry lookup table per group.
 */
export function dequantizeRowsInto(weight: QuantizedWeight, out: Float32Array, rowStart = 0, rowEnd = weight.rows): Float32Array {
  if (weight.format === 'int8') return dequantInt8Rows(weight, out, rowStart, rowEnd);
  return dequantInt4Rows(weight, out, rowStart, rowEnd);
}

/** Dequantizes a whole packed weight to a new `[rows][cols]` Float32Array. */
export function dequantize(weight: QuantizedWeight): Float32Array {
  return dequantizeRowsInto(weight, new Float32Array(weight.rows * weight.cols));
}

function dequantInt8Rows(w: Int8Weight, out: Float32Array, rowStart: number, rowEnd: number): Float32Array {
  const { cols, q, scales } = w;
  for (let r = rowStart; r < rowEnd; r++) {
    const s = scales[r]!;
    const src = r * cols;
    const dst = (r - rowStart) * cols;
    for (let c = 0; c < cols; c++) out[dst + c] = q[src + c]! * s;
  }
  return out;
}

function dequantInt4Rows(w: Int4Weight, out: Float32Array, rowStart: number, rowEnd: number): Float32Array {
  const { cols, groupSize, packed, scales, zeros } = w;
  const groups = cols / groupSize;
  const half = groupSize / 2;
  const lut = new Float32Array(16);
  for (let r = rowStart; r < rowEnd; r++) {
    let byte = (r * cols) >> 1;
    let dst = (r - rowStart) * cols;
    for (let g = 0; g < groups; g++) {
      const s = scales[r * groups + g]!;
      const z = zeros[r * groups + g]!;
      for (let i = 0; i < 16; i++) lut[i] = (i - z) * s;
      for (let i = 0; i < half; i++, byte++, dst += 2) {
        const b = packed[byte]!;
        out[dst] = lut[b & 15]!;
        out[dst + 1] = lut[b >> 4]!;
      }
    }
  }
  return out;
}
