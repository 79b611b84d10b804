import { describe, expect, it } from 'vitest';
import { QuantizerError } from './errors.js';
import { packInt4, unpackInt4 } from './int4Pack.js';

describe('int4 packing', () => {
  it('puts the even column in the low nibble', () => {
    expect([...packInt4(Uint8Array.from([1, 2, 3, 4, 15, 0]), 1, 6)]).toEqual([0x21, 0x43, 0x0f]);
  });

  it('round-trips random codes', () => {
    const codes = Uint8Array.from({ length: 64 * 6 }, (_, i) => (i * 7 + (i >> 3)) % 16);
    const packed = packInt4(codes, 6, 64);
    expect(packed.length).toBe(codes.length / 2);
    expect([...unpackInt4(packed)]).toEqual([...codes]);
  });

  it('rejects odd widths, wrong sizes and codes above 15', () => {
    expect(() => packInt4(new Uint8Array(6), 2, 3)).toThrow(QuantizerError);
    expect(() => packInt4(new Uint8Array(5), 1, 6)).toThrow(/do not fill/);
    expect(() => packInt4(Uint8Array.from([1, 16]), 1, 2)).toThrow(/outside 0\.\.15/);
    expect(() => unpackInt4(new Uint8Array(2), 7)).toThrow(/cannot hold/);
  });
});
