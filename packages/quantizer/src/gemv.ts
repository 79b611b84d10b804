import type { Int4Weight, Int8Weight, QuantizedWeight } from './quantizedWeight.js';

/**
 * y[m] = x[m] · Wᵀ computed straight from the packed codes (no dequantized copy), for the few
 * rows of a decode step. `x` is `[m][cols]`, `y` is `[m][rows]`.
 */
export function packedGemv(weight: QuantizedWeight, x: Float32Array, m: number, y: Float32Array): void {
  if (weight.format === 'int8') int8Gemv(weight, x, m, y);
  else int4Gemv(weight, x, m, y);
}

function int8Gemv(w: Int8Weight, x: Float32Array, m: number, y: Float32Array): void {
  const { rows, cols, q, scales } = w;
  for (let t = 0; t < m; t++) {
    const xo = t * cols;
    for (let r = 0; r < rows; r++) {
      const qo = r * cols;
      let acc = 0;
      for (let c = 0; c < cols; c++) acc += x[xo + c]! * q[qo + c]!;
      y[t * rows + r] = acc * scales[r]!;
    }
  }
}

/** Above this many rows a per-call 256-entry table per input pair beats decoding nibbles. */
const LUT_MIN_ROWS = 64;

function int4Gemv(w: Int4Weight, x: Float32Array, m: number, y: Float32Array): void {
  if (w.rows >= LUT_MIN_ROWS) {
    int4GemvLut(w, x, m, y);
    return;
  }
  const { rows, cols, groupSize, packed, scales, zeros } = w;
  const groups = cols / groupSize;
  const half = groupSize >> 1;
  const xsum = new Float64Array(groups);
  for (let t = 0; t < m; t++) {
    const xo = t * cols;
    // Σx per group lets the zero point be applied once per group: Σ x(q − z) = Σ xq − z Σ x.
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let i = 0; i < groupSize; i++) s += x[xo + g * groupSize + i]!;
      xsum[g] = s;
    }
    for (let r = 0; r < rows; r++) {
      let byte = (r * cols) >> 1;
      let acc = 0;
      for (let g = 0; g < groups; g++) {
        let k = xo + g * groupSize;
        let dot = 0;
        for (let i = 0; i < half; i++, byte++, k += 2) {
          const b = packed[byte]!;
          dot += x[k]! * (b & 15) + x[k + 1]! * (b >> 4);
        }
        const sg = r * groups + g;
        acc += scales[sg]! * (dot - zeros[sg]! * xsum[g]!);
      }
      y[t * rows + r] = acc;
    }
  }
}

/**
 * Table-driven int4 GEMV: for each byte position j (input columns 2j, 2j+1) the 256 possible
 * bytes' partial dot products `x[2j]·lo + x[2j+1]·hi` are tabulated once per token, so each
 * packed byte of every row costs one lookup and one add.
 */
function int4GemvLut(w: Int4Weight, x: Float32Array, m: number, y: Float32Array): void {
  const { rows, cols, groupSize, packed, scales, zeros } = w;
  const groups = cols / groupSize;
  const half = groupSize >> 1;
  const pairs = cols >> 1;
  const table = new Float32Array(pairs * 256);
  const xsum = new Float64Array(groups);
  for (let t = 0; t < m; t++) {
    const xo = t * cols;
    for (let j = 0; j < pairs; j++) {
      const x0 = x[xo + 2 * j]!;
      const x1 = x[xo + 2 * j + 1]!;
      const base = j << 8;
      for (let hi = 0; hi < 16; hi++) {
        const h = x1 * hi;
        const row = base + (hi << 4);
        for (let lo = 0; lo < 16; lo++) table[row + lo] = x0 * lo + h;
      }
    }
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let i = 0; i < groupSize; i++) s += x[xo + g * groupSize + i]!;
      xsum[g] = s;
    }
    for (let r = 0; r < rows; r++) {
      let byte = r * pairs;
      let tj = 0;
      let acc = 0;
      for (let g = 0; g < groups; g++) {
        let dot = 0;
        for (let i = 0; i < half; i++, byte++, tj += 256) dot += table[tj + packed[byte]!]!;
        const sg = r * groups + g;
        acc += scales[sg]! * (dot - zeros[sg]! * xsum[g]!);
      }
      y[t * rows + r] = acc;
    }
  }
}

/**
 * Dynamic symmetric int8 quantization of activations, per row (token): returns the codes as
 * float values (exact integers in −127..127) and one scale per row, `x ≈ codes · scale`.
 */
export function quantizeActivationsInt8(x: Float32Array, m: number, cols: number): { codes: Float32Array; scales: Float32Array } {
  const codes = new Float32Array(m * cols);
  const scales = new Float32Array(m);
  for (let t = 0; t < m; t++) {
    let amax = 0;
    for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(x[t * cols + c]!));
    const s = amax / 127;
    scales[t] = s;
    if (s === 0) continue;
    for (let c = 0; c < cols; c++) {
      const v = x[t * cols + c]! / s;
      codes[t * cols + c] = Math.max(-127, Math.min(127, v < 0 ? -Math.round(-v) : Math.round(v)));
    }
  }
  return { codes, scales };
}
