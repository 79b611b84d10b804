import { seededFloats } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { dequantize } from './dequantize.js';
import { QuantizerError } from './errors.js';
import { unpackInt4 } from './int4Pack.js';
import { quantizeInt4, quantizeInt8 } from './rtn.js';

describe('int8 per-channel RTN', () => {
  it('matches a hand-computed row (scale = amax/127, round half away from zero)', () => {
    const w = quantizeInt8({ data: Float32Array.from([127, -63.5, 0, 1, 2, 4, -8, 0.5]), rows: 2, cols: 4 });
    expect([...w.q.subarray(0, 4)]).toEqual([127, -64, 0, 1]);
    expect(w.scales[0]).toBe(1);
    // Row 2: amax 8 → scale f16(8/127); 0.5/scale = 7.9375 → 8.
    expect(w.scales[1]).toBeCloseTo(8 / 127, 4);
    expect([...w.q.subarray(4)]).toEqual([32, 64, -127, 8]);
  });

  it('reconstructs within half a step per channel', () => {
    const data = seededFloats(32 * 48, 5, 0.1);
    const w = quantizeInt8({ data, rows: 32, cols: 48 });
    const back = dequantize(w);
    for (let i = 0; i < data.length; i++) expect(Math.abs(back[i]! - data[i]!)).toBeLessThanOrEqual(w.scales[Math.floor(i / 48)]! / 2 + 1e-7);
  });

  it('rejects a matrix whose data does not match its shape', () => {
    expect(() => quantizeInt8({ data: new Float32Array(5), rows: 2, cols: 3, name: 'x.weight' })).toThrow(/x\.weight/);
  });
});

describe('int4 group-wise RTN', () => {
  it('symmetric: the largest-magnitude value maps to code 0 (scale = m/−8)', () => {
    const w = quantizeInt4({ data: Float32Array.from([4, -2, 1, 0, -8, 4, 2, -1]), rows: 1, cols: 8, groupSize: 4, symmetric: true });
    expect([...w.scales]).toEqual([-0.5, 1]);
    expect([...w.zeros]).toEqual([8, 8]);
    expect([...unpackInt4(w.packed)]).toEqual([0, 12, 6, 8, 0, 12, 10, 7]);
    expect(Array.from(dequantize(w), (v) => v + 0)).toEqual([4, -2, 1, 0, -8, 4, 2, -1]);
  });

  it('asymmetric: scale = (max−min)/15, zero = round(−min/scale)', () => {
    const w = quantizeInt4({ data: Float32Array.from([-1, 0, 2, 6.5, 0, 1.5, 3, 7.5]), rows: 1, cols: 8, groupSize: 4, symmetric: false });
    expect([...w.scales]).toEqual([0.5, 0.5]);
    expect([...w.zeros]).toEqual([2, 0]);
    expect([...unpackInt4(w.packed)]).toEqual([0, 2, 6, 15, 0, 3, 6, 15]);
    expect([...w.packed]).toEqual([0x20, 0xf6, 0x30, 0xf6]);
    expect([...dequantize(w)]).toEqual([-1, 0, 2, 6.5, 0, 1.5, 3, 7.5]);
  });

  for (const groupSize of [32, 64, 128]) {
    for (const symmetric of [true, false]) {
      it(`g${groupSize} ${symmetric ? 'sym' : 'asym'} reconstructs within half a step`, () => {
        const data = seededFloats(8 * 256, groupSize + (symmetric ? 1 : 0), 0.05);
        const w = quantizeInt4({ data, rows: 8, cols: 256, groupSize, symmetric });
        expect(w.scales.length).toBe((8 * 256) / groupSize);
        const back = dequantize(w);
        for (let i = 0; i < data.length; i++) {
          const step = Math.abs(w.scales[Math.floor(i / groupSize)]!);
          // Symmetric clamps the far end at +7 steps: allow one full step there.
          expect(Math.abs(back[i]! - data[i]!)).toBeLessThanOrEqual((symmetric ? 1 : 0.5) * step + 1e-6);
        }
      });
    }
  }

  it('rejects a group size that does not divide the width', () => {
    expect(() => quantizeInt4({ data: new Float32Array(96), rows: 1, cols: 96, groupSize: 64, symmetric: true })).toThrow(QuantizerError);
    expect(() => quantizeInt4({ data: new Float32Array(96), rows: 1, cols: 96, groupSize: 3, symmetric: true })).toThrow(/even integer/);
  });
});
