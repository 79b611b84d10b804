/**
 * Int8 weight, per-output-channel symmetric: `W[r][c] = q[r·cols + c] · scales[r]`.
 * Layout is HF's `[out, in]` row-major (`rows` = out features, `cols` = in features).
 */
export interface Int8Weight {
  format: 'int8';
  rows: number;
  cols: number;
  /** `[rows][cols]` codes in -127..127. */
  q: Int8Array;
  /** One scale per row (values are exactly representable in float16). */
  scales: Float32Array;
}

/**
 * Int4 weight, group-wise along the input dimension:
 * `W[r][c] = (code(r, c) − zeros[r·G + g]) · scales[r·G + g]` with `g = ⌊c / groupSize⌋`,
 * `G = cols / groupSize`. Codes (0..15) are packed two per byte, low nibble first
 * (see {@link packInt4}). Symmetric weights have every zero equal to 8.
 */
export interface Int4Weight {
  format: 'int4';
  rows: number;
  cols: number;
  groupSize: number;
  symmetric: boolean;
  /** `[rows][cols/2]` packed codes. */
  packed: Uint8Array;
  /** `[rows][G]` scales (exactly representable in float16). */
  scales: Float32Array;
  /** `[rows][G]` integer zero points 0..15 (the wasm kernel gets them as float32). */
  zeros: Uint8Array;
}

export type QuantizedWeight = Int8Weight | Int4Weight;

/** Bytes the packed weight occupies in memory (codes + scales + zeros). */
export function quantizedBytes(weight: QuantizedWeight): number {
  if (weight.format === 'int8') return weight.q.byteLength + weight.scales.byteLength;
  return weight.packed.byteLength + weight.scales.byteLength + weight.zeros.byteLength;
}
