import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasSharedReference, makeTempDir, removeDir, sharedReferencePath } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../errors.js';
import { float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits } from './dtypes.js';
import { parseSafetensors, readSafetensors, serializeSafetensors, toFloat32, toInt32, writeSafetensors } from './safetensors.js';
import { readSafetensorsDir, writeSafetensorsDir } from './sharded.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(() => removeDir(dir));

describe('half-precision conversions (hand-computed IEEE bit patterns)', () => {
  it('encodes float16', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00); // overflow → +inf
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float16BitsToFloat32(0x2e66)).toBeCloseTo(0.0999755859375, 12);
  });

  it('encodes bfloat16 with round-to-nearest-even', () => {
    expect(float32ToBfloat16Bits(1)).toBe(0x3f80);
    expect(float32ToBfloat16Bits(-0.5)).toBe(0xbf00);
    expect(float32ToBfloat16Bits(3.140625)).toBe(0x4049);
    // 1 + 2^-8 is exactly halfway between two bf16 values: ties to even (0x3f80).
    expect(float32ToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
  });
});

describe('safetensors', () => {
  it.skipIf(!hasSharedReference('deepseek-tiny', 'hf', 'model.safetensors'))(
    "reads the DeepSeek tiny fixture and re-serializes it byte-for-byte in HF's layout",
    async () => {
      const path = sharedReferencePath('deepseek-tiny', 'hf', 'model.safetensors');
      const contents = await readSafetensors(path);
      const config = JSON.parse(await readFile(sharedReferencePath('deepseek-tiny', 'hf', 'config.json'), 'utf8'));
      expect(contents.metadata).toEqual({ format: 'pt' });
      const embed = contents.tensors.get('model.embed_tokens.weight')!;
      expect(embed.dtype).toBe('F32');
      expect(embed.shape).toEqual([config.vocab_size, config.hidden_size]);
      const kvA = contents.tensors.get('model.layers.0.self_attn.kv_a_proj_with_mqa.weight')!;
      expect(kvA.shape).toEqual([config.kv_lora_rank + config.qk_rope_head_dim, config.hidden_size]);
      // Round trip: decode every tensor, write it back, and compare bytes of each tensor.
      const toWrite = Object.fromEntries(
        [...contents.tensors].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: toFloat32(t) }]),
      );
      const again = parseSafetensors(serializeSafetensors(toWrite, contents.metadata));
      for (const [name, t] of contents.tensors) expect(Buffer.from(again.tensors.get(name)!.bytes).equals(Buffer.from(t.bytes))).toBe(true);
    },
  );

  it('round-trips every supported dtype', async () => {
    const path = join(dir, 'all.safetensors');
    await writeSafetensors(path, {
      f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 0, 3.25]) },
      f16: { dtype: 'F16', shape: [3], data: new Float32Array([1, -0.5, 65504]) },
      bf16: { dtype: 'BF16', shape: [2], data: new Float32Array([1, -0.5]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([5n, -7n]) },
      i32: { dtype: 'I32', shape: [2], data: new Int32Array([2147483647, -3]) },
      i8: { dtype: 'I8', shape: [2], data: new Int8Array([-128, 127]) },
      u8: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
    });
    const back = await readSafetensors(path);
    expect(Array.from(toFloat32(back.tensors.get('f32')!))).toEqual([1.5, -2, 0, 3.25]);
    expect(Array.from(toFloat32(back.tensors.get('f16')!))).toEqual([1, -0.5, 65504]);
    expect(Array.from(toFloat32(back.tensors.get('bf16')!))).toEqual([1, -0.5]);
    expect(Array.from(toInt32(back.tensors.get('i64')!))).toEqual([5, -7]);
    expect(Array.from(toInt32(back.tensors.get('i32')!))).toEqual([2147483647, -3]);
    expect(Array.from(toInt32(back.tensors.get('i8')!))).toEqual([-128, 127]);
    expect(Array.from(toInt32(back.tensors.get('u8')!))).toEqual([0, 255]);
    // The header is padded to a multiple of 8 bytes like HF's writer.
    const raw = await readFile(path);
    expect(Number(raw.readBigUInt64LE(0)) % 8).toBe(0);
  });

  it('writes and reads sharded directories with an index', async () => {
    const shardDir = join(dir, 'sharded');
    const a = new Float32Array(300).map((_, i) => i);
    const files = await writeSafetensorsDir(
      shardDir,
      { a: { dtype: 'F32', shape: [300], data: a }, b: { dtype: 'F32', shape: [300], data: a }, c: { dtype: 'I32', shape: [1], data: new Int32Array([9]) } },
      { maxShardBytes: 1500 },
    );
    expect(files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const index = JSON.parse(await readFile(join(shardDir, 'model.safetensors.index.json'), 'utf8'));
    expect(index.weight_map).toEqual({ a: files[0], b: files[1], c: files[1] });
    const { tensors } = await readSafetensorsDir(shardDir);
    expect(Array.from(toFloat32(tensors.get('b')!)).slice(0, 3)).toEqual([0, 1, 2]);
    expect(Array.from(toInt32(tensors.get('c')!))).toEqual([9]);
  });

  it('names the file and tensor in errors for corrupt input', async () => {
    const good = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const truncated = join(dir, 'truncated.safetensors');
    await writeFile(truncated, good.subarray(0, good.byteLength - 4));
    await expect(readSafetensors(truncated)).rejects.toThrow(/truncated\.safetensors: tensor 'w' has data_offsets/);
    const badJson = new Uint8Array(good);
    badJson[9] = 0x7b; // break the JSON
    expect(() => parseSafetensors(badJson, 'x.safetensors')).toThrow(/x\.safetensors: header is not valid JSON/);
    try {
      parseSafetensors(new Uint8Array(4), 'tiny.safetensors');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CoreError);
      expect((error as CoreError).context.file).toBe('tiny.safetensors');
    }
    await expect(readSafetensorsDir(join(dir, 'nowhere'))).rejects.toThrow(/neither model\.safetensors nor/);
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/tensor 'w' has 2 values/);
  });
});
