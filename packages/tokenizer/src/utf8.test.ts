import { describe, expect, it } from 'vitest';
import { seededInts } from './testing/corpus.js';
import { decodeUtf8, encodeUtf8, incompleteTail } from './utf8.js';

describe('utf8', () => {
  it('encodes like TextEncoder for well-formed strings', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', '日本語', 'a\u0000b', '\uffff\u{10ffff}']) {
      expect(encodeUtf8(s)).toEqual(new TextEncoder().encode(s));
    }
  });

  it('round-trips lone surrogates as WTF-8', () => {
    for (const s of ['\ud800', '\udfff', 'a\ud83dz', '\ude00\ud83d', '\ud83d\ud83d\ude00']) {
      const bytes = encodeUtf8(s);
      expect(decodeUtf8(bytes)).toBe(s);
    }
    expect(Array.from(encodeUtf8('\ud800'))).toEqual([0xed, 0xa0, 0x80]);
  });

  it('decodes invalid bytes like TextDecoder (one U+FFFD per maximal subpart)', () => {
    const next = seededInts(5);
    const lenient = new TextDecoder('utf-8');
    for (let k = 0; k < 300; k++) {
      // random bytes biased to UTF-8 lead/continuation bytes, avoiding ED A0..BF (WTF-8 surrogates)
      const bytes = Uint8Array.from(
        { length: 1 + (next() % 12) },
        () => [0x41, 0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0x9f, 0xff, 0xc0, 0xf4, 0x90][next() % 11]!,
      );
      expect(decodeUtf8(bytes)).toBe(lenient.decode(bytes));
    }
  });

  it('escapes invalid bytes reversibly when asked', () => {
    const bytes = Uint8Array.of(0x61, 0xff, 0xc3, 0x28, 0xe2, 0x82);
    const text = decodeUtf8(bytes, true);
    expect(text).toBe('a\udcff\udcc3(\udce2\udc82');
  });

  it('finds the incomplete tail of a byte stream', () => {
    const euro = new TextEncoder().encode('x€');
    expect(incompleteTail(euro, euro.length)).toBe(0);
    expect(incompleteTail(euro, 3)).toBe(2);
    expect(incompleteTail(euro, 2)).toBe(1);
    const bad = Uint8Array.of(0x61, 0xff);
    expect(incompleteTail(bad, 2)).toBe(0);
  });
});
