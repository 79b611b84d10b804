import { float16BitsToFloat32, float32ToFloat16Bits } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { QuantizerError } from '../errors.js';
import { dequantizeQ4_0, dequantizeQ8_0, quantizeQ4_0, quantizeQ8_0 } from './ggmlBlocks.js';

const f16 = (x: number) => float16BitsToFloat32(float32ToFloat16Bits(x));

describe('Q8_0 blocks', () => {
  it('match a hand-computed block: f16 d = amax/127, then 32 int8', () => {
    const x = Float32Array.from({ length: 32 }, (_, i) => i - 16); // amax 16
    const bytes = quantizeQ8_0(x);
    expect(bytes.length).toBe(34);
    const view = new DataView(bytes.buffer);
    expect(float16BitsToFloat32(view.getUint16(0, true))).toBe(f16(16 / 127));
    // q = roundf(x · 127/16): −16 → −127, −8 → −63.5 → −64, 1 → 7.9375 → 8, 0 → 0.
    expect(view.getInt8(2 + 0)).toBe(-127);
    expect(view.getInt8(2 + 8)).toBe(-64);
    expect(view.getInt8(2 + 17)).toBe(8);
    expect(view.getInt8(2 + 16)).toBe(0);
  });

  it('round-trip within half a step', () => {
    const x = seededFloats(256, 3, 2);
    const back = dequantizeQ8_0(quantizeQ8_0(x));
    for (let b = 0; b < 8; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
      for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j]! - x[b * 32 + j]!)).toBeLessThanOrEqual(amax / 127 / 2 + 1e-3);
    }
  });
});

describe('Q4_0 blocks', () => {
  it('match a hand-computed block: d = max/−8, low nibbles = elements 0..15, high = 16..31', () => {
    // Largest magnitude is −8 (element 0) → d = 1, code = x + 8.
    const x = Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? -8 : (i % 15) - 7));
    const bytes = quantizeQ4_0(x);
    expect(bytes.length).toBe(18);
    expect(float16BitsToFloat32(new DataView(bytes.buffer).getUint16(0, true))).toBe(1);
    for (let j = 0; j < 16; j++) {
      expect(bytes[2 + j]! & 15).toBe(x[j]! + 8);
      expect(bytes[2 + j]! >> 4).toBe(x[16 + j]! + 8);
    }
    expect([...dequantizeQ4_0(bytes)]).toEqual([...x]);
  });

  it('uses a negative d when the largest magnitude is positive (code 0 = +max)', () => {
    const x = new Float32Array(32);
    x[3] = 4;
    x[20] = -2;
    const bytes = quantizeQ4_0(x);
    expect(float16BitsToFloat32(new DataView(bytes.buffer).getUint16(0, true))).toBe(-0.5);
    expect(bytes[2 + 3]! & 15).toBe(0); // 4 / −0.5 + 8.5 = 0.5 → 0
    expect(bytes[2 + 4]! >> 4).toBe(12); // −2 / −0.5 + 8.5 = 12.5 → 12
    expect(bytes[2 + 0]! & 15).toBe(8);
  });

  it('rejects a length that is not a whole number of blocks', () => {
    expect(() => quantizeQ4_0(new Float32Array(40))).toThrow(QuantizerError);
    expect(() => quantizeQ8_0(new Float32Array(31))).toThrow(/multiple of the 32-element block/);
  });
});
