import { float16BitsToFloat32, float32ToFloat16Bits } from '@deepline/core';
import { fail } from '../errors.js';

/** ggml tensor types this exporter writes (ids from ggml.h). */
export const GgmlType = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** Elements per block and bytes per block of each type (llama.cpp `ggml-common.h`). */
export const GGML_BLOCK: Record<GgmlType, { size: number; bytes: number }> = {
  [GgmlType.F32]: { size: 1, bytes: 4 },
  [GgmlType.F16]: { size: 1, bytes: 2 },
  [GgmlType.Q4_0]: { size: 32, bytes: 18 },
  [GgmlType.Q8_0]: { size: 32, bytes: 34 },
};

/** Bytes a row-major tensor of `count` elements takes in `type`. */
export function ggmlTensorBytes(type: GgmlType, count: number): number {
  const { size, bytes } = GGML_BLOCK[type];
  if (count % size !== 0) fail('GGUF_BLOCK', `${count} elements are not a whole number of ${size}-element blocks`, { field: 'type' });
  return (count / size) * bytes;
}

const f = Math.fround;

function checkBlocks(data: Float32Array, what: string): number {
  if (data.length % 32 !== 0) fail('GGUF_BLOCK', `${what}: ${data.length} values are not a multiple of the 32-element block`, { field: 'type' });
  return data.length / 32;
}

/**
 * Q8_0 blocks exactly as llama.cpp's reference quantizer writes them: per 32 values,
 * `f16 d = amax/127` then 32 int8 `roundf(x/d)` (computed in float32 like the C code).
 */
export function quantizeQ8_0(data: Float32Array): Uint8Array {
  const blocks = checkBlocks(data, 'Q8_0');
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = b * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(data[x + j]!));
    const d = f(amax / 127);
    const id = d !== 0 ? f(1 / d) : 0;
    const o = b * 34;
    view.setUint16(o, float32ToFloat16Bits(d), true);
    for (let j = 0; j < 32; j++) {
      const v = f(data[x + j]! * id);
      view.setInt8(o + 2 + j, v < 0 ? -Math.round(-v) : Math.round(v));
    }
  }
  return out;
}

/**
 * Q4_0 blocks exactly as llama.cpp's reference quantizer writes them: `d = max/−8` where max
 * is the value of largest magnitude, codes `min(15, trunc(x/d + 8.5))`; byte j holds element j
 * in its low nibble and element j+16 in its high nibble.
 */
export function quantizeQ4_0(data: Float32Array): Uint8Array {
  const blocks = checkBlocks(data, 'Q4_0');
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = b * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = data[x + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = f(max / -8);
    const id = d !== 0 ? f(1 / d) : 0;
    const o = b * 18;
    view.setUint16(o, float32ToFloat16Bits(d), true);
    for (let j = 0; j < 16; j++) {
      const lo = Math.min(15, Math.trunc(f(f(data[x + j]! * id) + 8.5)));
      const hi = Math.min(15, Math.trunc(f(f(data[x + 16 + j]! * id) + 8.5)));
      out[o + 2 + j] = lo | (hi << 4);
    }
  }
  return out;
}

/** Decodes Q8_0 blocks (x = d·q). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const blocks = bytes.length / 34;
  const out = new Float32Array(blocks * 32);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < blocks; b++) {
    const d = float16BitsToFloat32(view.getUint16(b * 34, true));
    for (let j = 0; j < 32; j++) out[b * 32 + j] = d * view.getInt8(b * 34 + 2 + j);
  }
  return out;
}

/** Decodes Q4_0 blocks (x = d·(q − 8), low nibbles are elements 0..15). */
export function dequantizeQ4_0(bytes: Uint8Array): Float32Array {
  const blocks = bytes.length / 18;
  const out = new Float32Array(blocks * 32);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < blocks; b++) {
    const d = float16BitsToFloat32(view.getUint16(b * 18, true));
    for (let j = 0; j < 16; j++) {
      const byte = bytes[b * 18 + 2 + j]!;
      out[b * 32 + j] = d * ((byte & 15) - 8);
      out[b * 32 + 16 + j] = d * ((byte >> 4) - 8);
    }
  }
  return out;
}

/** Encodes float32 values as `type` (F32, F16, Q8_0 or Q4_0) bytes. */
export function encodeGgmlTensor(data: Float32Array, type: GgmlType): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(Float32Array.from(data).buffer);
    case GgmlType.F16: {
      const half = new Uint16Array(data.length);
      for (let i = 0; i < data.length; i++) half[i] = float32ToFloat16Bits(data[i]!);
      return new Uint8Array(half.buffer);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(data);
    case GgmlType.Q4_0:
      return quantizeQ4_0(data);
    default:
      return fail('GGUF_TYPE', `unsupported ggml type ${type as number}`, { field: 'type' });
  }
}
