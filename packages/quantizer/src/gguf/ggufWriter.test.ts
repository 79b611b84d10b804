import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { makeTempDir, removeDir, seededFloats } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuantizerError } from '../errors.js';
import { GgmlType, encodeGgmlTensor } from './ggmlBlocks.js';
import { type GgufTensorInput, encodeGguf, writeGgufFile } from './ggufWriter.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('gguf-writer-');
});
afterAll(async () => removeDir(dir));

const weights = seededFloats(3 * 64, 1, 0.5);
const tensors: GgufTensorInput[] = [
  { name: 'a.f32', shape: [5], type: GgmlType.F32, data: encodeGgmlTensor(seededFloats(5, 2), GgmlType.F32) },
  { name: 'b.f16', shape: [3, 64], type: GgmlType.F16, data: encodeGgmlTensor(weights, GgmlType.F16) },
  { name: 'c.q8', shape: [3, 64], type: GgmlType.Q8_0, data: encodeGgmlTensor(weights, GgmlType.Q8_0) },
  { name: 'd.q4', shape: [2, 3, 64], type: GgmlType.Q4_0, data: encodeGgmlTensor(seededFloats(2 * 3 * 64, 3), GgmlType.Q4_0) },
];

describe('GGUF writer', () => {
  it('writes a v3 file that @huggingface/gguf parses with the same metadata and tensor table', async () => {
    const path = join(dir, 'all.gguf');
    const size = await writeGgufFile(path, {
      metadata: [
        ['general.architecture', { type: 'string', value: 'deepseek2' }],
        ['general.alignment', { type: 'u32', value: 32 }],
        ['t.u8', { type: 'u8', value: 200 }],
        ['t.i32', { type: 'i32', value: -5 }],
        ['t.f32', { type: 'f32', value: 0.25 }],
        ['t.bool', { type: 'bool', value: true }],
        ['t.u64', { type: 'u64', value: 2 ** 40 }],
        ['t.f64', { type: 'f64', value: 1.5 }],
        ['t.strings', { type: 'array', itemType: 'string', values: ['a b', 'ü'] }],
        ['t.ints', { type: 'array', itemType: 'i32', values: Int32Array.from([1, -2, 3]) }],
      ],
      tensors,
    });
    const bytes = await readFile(path);
    expect(bytes.length).toBe(size);
    expect([...bytes.subarray(0, 4)]).toEqual([0x47, 0x47, 0x55, 0x46]);
    const parsed = await gguf(path, { allowLocalFile: true });
    const m = parsed.metadata as Record<string, unknown>;
    expect(m.version).toBe(3);
    expect(m['general.architecture']).toBe('deepseek2');
    expect(m['general.alignment']).toBe(32);
    expect(m['t.u8']).toBe(200);
    expect(m['t.i32']).toBe(-5);
    expect(m['t.f32']).toBe(0.25);
    expect(m['t.bool']).toBe(true);
    expect(Number(m['t.u64'])).toBe(2 ** 40);
    expect(m['t.f64']).toBe(1.5);
    expect(m['t.strings']).toEqual(['a b', 'ü']);
    expect(m['t.ints']).toEqual([1, -2, 3]);
    expect(Number(parsed.tensorDataOffset) % 32).toBe(0);
    expect(parsed.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype])).toEqual([
      ['a.f32', [5], 0],
      ['b.f16', [64, 3], 1],
      ['c.q8', [64, 3], 8],
      ['d.q4', [64, 3, 2], 2],
    ]);
    for (const [i, info] of parsed.tensorInfos.entries()) {
      expect(Number(info.offset) % 32).toBe(0);
      const start = Number(parsed.tensorDataOffset + info.offset);
      expect(Buffer.from(bytes.subarray(start, start + tensors[i]!.data.length)).equals(Buffer.from(tensors[i]!.data))).toBe(true);
    }
  });

  it('encodes the same bytes in memory as on disk', async () => {
    const path = join(dir, 'same.gguf');
    const options = { metadata: [['general.architecture', { type: 'string', value: 'x' }] as const], tensors };
    await writeGgufFile(path, options);
    expect(Buffer.from(encodeGguf(options)).equals(await readFile(path))).toBe(true);
  });

  it('rejects duplicate keys, wrong byte counts, unaligned quantized rows and long names', () => {
    const md = (k: string) => [k, { type: 'u32', value: 1 }] as const;
    expect(() => encodeGguf({ metadata: [md('k'), md('k')], tensors: [] })).toThrow(/appears twice/);
    expect(() => encodeGguf({ metadata: [], tensors: [{ ...tensors[1]!, data: new Uint8Array(4) }] })).toThrow(QuantizerError);
    expect(() => encodeGguf({ metadata: [], tensors: [{ name: 'q', shape: [2, 48], type: GgmlType.Q8_0, data: new Uint8Array(102) }] })).toThrow(
      /not a multiple of the 32-element block/,
    );
    expect(() => encodeGguf({ metadata: [], tensors: [{ ...tensors[0]!, name: 'x'.repeat(65) }] })).toThrow(/longer than 64 bytes/);
  });
});
