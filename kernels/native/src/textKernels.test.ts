import { textKernelProvider } from '@deepline/core';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from './addon.js';
import {
  registerNativeTextKernels,
  unregisterNativeTextKernels,
} from './registerNativeTextKernels.js';
import { nativeKernelsAvailable } from './registerNativeKernels.js';

// Hand-computed expectations for the text kernels (@deepline/data compares them against its
// JavaScript on whole corpora); here: small inputs worked out independently, and bad calls.

const status = nativeKernelsAvailable();

function fnv1aFmix(bytes: number[]): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

afterAll(() => unregisterNativeTextKernels());

describe.runIf(status.available)('native text kernels', () => {
  const addon = loadAddon().addon!;

  it('scans words at JavaScript whitespace (NBSP yes, U+0085 no) with hashes and kinds', () => {
    const text = ' ab\u00a0\u00e9\u0085x\t7\u0001 ';
    const out = [
      new Uint32Array(8),
      new Uint32Array(8),
      new Uint32Array(8),
      new Uint8Array(8),
    ] as const;
    const n = addon.scanWordsLatin1(bytes(text), text.length, ...out);
    expect(n).toBe(3);
    expect(Array.from(out[0].subarray(0, n))).toEqual([1, 4, 8]);
    expect(Array.from(out[1].subarray(0, n))).toEqual([2, 3, 2]);
    expect(Array.from(out[2].subarray(0, n))).toEqual([
      fnv1aFmix([0x61, 0x62]),
      fnv1aFmix([0xe9, 0x85, 0x78]),
      fnv1aFmix([0x37, 0x01]),
    ]);
    // ab: letters; é·x: non-ASCII + letter; 7·\u0001: digit + control.
    expect(Array.from(out[3].subarray(0, n))).toEqual([3, 4 | 3, 1 | 8]);
  });

  it('hashes dedup words through the folding tables (digit runs as one 0)', () => {
    const folded = new Uint16Array(256);
    const classes = new Uint8Array(256);
    for (let c = 97; c <= 122; c++) {
      folded[c] = c;
      classes[c] = 1;
      folded[c - 32] = c;
      classes[c - 32] = 1;
    }
    for (let c = 48; c <= 57; c++) classes[c] = 2;
    const text = 'Ab-12x 2024';
    const out = new Uint32Array(8);
    const n = addon.dedupHashesLatin1(bytes(text), text.length, out, folded, classes);
    expect(Array.from(out.subarray(0, n))).toEqual([
      fnv1aFmix([0x61, 0x62]),
      fnv1aFmix([0x30, 0x78]),
      fnv1aFmix([0x30]),
    ]);
  });

  it('finds a planted top 2-gram and reports its fraction', () => {
    // "a b" eight times among distinct words: count 8 × 3 chars = 24 of a 60-char text.
    const words = [
      ...Array.from({ length: 8 }, () => ['a', 'b']).flat(),
      ...'cdefghijklmnopqrstuvwx',
    ];
    const hashes = Uint32Array.from(words, (w) => fnv1aFmix([w.charCodeAt(0)]));
    const lengths = Uint32Array.from(words, () => 1);
    const out = new Float64Array(1);
    const params = new Float64Array([60, 1, 2, 0.2, 0]);
    expect(addon.gopherNgrams(hashes, lengths, params, out)).toBe(0);
    expect(out[0]).toBeCloseTo(24 / 60, 12);
    params[3] = 0.5;
    expect(addon.gopherNgrams(hashes, lengths, params, out)).toBe(-1);
  });

  it('counts repeated paragraphs (trimmed text) and lines', () => {
    const text = ' a\nb\n\nc\n\n\na\nb\n\nc ';
    const out = new Float64Array(3);
    // Paragraphs of the trimmed text: "a\nb", "c", "a\nb", "c" → 4 pieces, 2 repeats, 3 + 1 chars.
    addon.duplicatePiecesLatin1(bytes(text), text.length, true, 2, out);
    expect(Array.from(out)).toEqual([4, 2, 4]);
    // Lines: " a", "b", "c", "a", "b", "c " → only "b" repeats.
    addon.duplicatePiecesLatin1(bytes(text), text.length, false, 1, out);
    expect(Array.from(out)).toEqual([6, 1, 1]);
    expect(() => addon.duplicatePiecesLatin1(bytes(text), text.length, false, 3 as 1, out)).toThrow(
      /1 or 2/,
    );
  });

  it('computes MinHash minima by their definition', () => {
    const words = Uint32Array.from([11, 22, 33, 44, 55, 66, 77]);
    const mulA = Int32Array.from([0x9e3779b1, 3, -7, 0x7fffffff]);
    const xorB = Int32Array.from([0, 0x5bd1e995, 1, -1]);
    const sig = new Int32Array(4);
    addon.minhashSignature(words, 5, mulA, xorB, sig);
    const shingles = [0, 1, 2].map((s) => {
      let h = 0x27d4eb2f;
      for (let j = 0; j < 5; j++) h = (Math.imul(h ^ words[s + j]!, 0x01000193) + j) >>> 0;
      return fnv1aFmixWord(h);
    });
    const expected = Array.from(mulA, (a, f) =>
      Math.min(
        ...shingles.map((x) => {
          let y = Math.imul(x ^ xorB[f]!, a);
          y ^= y >>> 16;
          return y | 0;
        }),
      ),
    );
    expect(Array.from(sig)).toEqual(expected);
  });

  it('averages fastText input rows of a line: words, then the final </s>', () => {
    // Dictionary: "hello", "</s>" (words) and one label; dense rows, no n-grams.
    const words = ['hello', '</s>', '__label__a'];
    const entryBytes = bytes(words.join(''));
    const entryStart = Int32Array.from([0, 5, 9, 19]);
    const types = Uint8Array.from([0, 0, 1]);
    const dense = Float32Array.from([1, 2, 3, 5]);
    const params = new Float64Array([2, 0, 0, 0, 1, 2, 2, 0, 0, 0, 0]);
    const create = (starts: Int32Array) =>
      addon.fastTextCreate(
        params,
        entryBytes,
        starts,
        types,
        new Int32Array(0),
        new Int32Array(0),
        dense,
        new Uint8Array(0),
        new Float32Array(0),
        new Uint8Array(0),
        new Float32Array(0),
      );
    const model = create(entryStart);
    const hidden = new Float32Array(2);
    const line = bytes('hello  x __label__a');
    // hello → row 0; "x" is unknown (no n-grams here) and the label is no feature; </s> → row 1.
    expect(addon.fastTextHidden(model, line, line.length, hidden)).toBe(2);
    expect(Array.from(hidden)).toEqual([2, 3.5]);
    expect(() => create(Int32Array.from([0, 5, 9]))).toThrow(/inconsistent dictionary/);
    expect(() => addon.fastTextHidden({}, line, line.length, hidden)).toThrow(/fastTextCreate/);
    expect(() => addon.fastTextHidden(model, line, line.length + 1, hidden)).toThrow(
      /within bytes/,
    );
  });

  it('rejects bad calls with a clear error instead of touching memory', () => {
    const codes = bytes('hello world');
    const small = new Uint32Array(2);
    expect(() => addon.scanWordsLatin1(codes, 11, small, small, small, new Uint8Array(2))).toThrow(
      /output arrays need/,
    );
    expect(() =>
      addon.scanWordsLatin1(
        codes,
        99,
        new Uint32Array(64),
        new Uint32Array(64),
        new Uint32Array(64),
        new Uint8Array(64),
      ),
    ).toThrow(/length exceeds codes/);
    expect(() =>
      addon.dedupHashesLatin1(
        codes,
        11,
        new Uint32Array(8),
        new Uint16Array(10),
        new Uint8Array(256),
      ),
    ).toThrow(/256 entries/);
    const hashes = new Uint32Array(4);
    expect(() =>
      addon.gopherNgrams(
        hashes,
        new Uint32Array(3),
        new Float64Array([10, 0, 0]),
        new Float64Array(1),
      ),
    ).toThrow(/differ in length/);
    expect(() =>
      addon.gopherNgrams(
        hashes,
        new Uint32Array(4),
        new Float64Array([10, 2, 3]),
        new Float64Array(1),
      ),
    ).toThrow(/bad rule list/);
    expect(() =>
      addon.minhashSignature(
        new Uint32Array(0),
        5,
        new Int32Array(2),
        new Int32Array(2),
        new Int32Array(2),
      ),
    ).toThrow(/non-empty/);
    expect(() =>
      addon.minhashSignature(hashes, 5, new Int32Array(2), new Int32Array(3), new Int32Array(2)),
    ).toThrow(/differ in length/);
  });

  it('registers in @deepline/core with the addon as the module worker threads load', () => {
    expect(registerNativeTextKernels()).toBe(true);
    expect(textKernelProvider()?.module).toBe(addonPath);
    expect(textKernelProvider()?.kernels.gopherNgrams).toBe(addon.gopherNgrams);
    unregisterNativeTextKernels();
    expect(textKernelProvider()).toBeUndefined();
  });
});

function fnv1aFmixWord(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) | 0;
}
