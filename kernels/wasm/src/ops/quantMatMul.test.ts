import { tf } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareBackends, toleranceRatio } from '../conformance/compareBackends.js';
import { KernelsError } from '../errors.js';
import { dequantizeInt4, dequantizeInt8, int4MatMul, int4WeightTensor, int8MatMul, int8WeightTensor } from './quantMatMul.js';

// Quantized weights from a fixed seed; the oracle is x · Wᵀ with W dequantized by hand
// (independently of the packers) and multiplied on the cpu backend.

function int8Case(outF: number, inF: number) {
  const q = Int8Array.from(seededFloats(outF * inF, 5, 127.99), (v) => Math.trunc(v));
  const scales = Float32Array.from(seededFloats(outF, 6, 0.01), (v) => Math.abs(v) + 0.001);
  const w = new Float32Array(outF * inF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = q[o * inF + i]! * scales[o]!;
  return { q, scales, w };
}

function int4Case(outF: number, inF: number, group: number) {
  const nibbles = Uint8Array.from(seededFloats(outF * inF, 7, 1), (v) => Math.floor((v + 1) * 8) & 15);
  const packed = new Uint8Array((outF * inF) / 2);
  for (let k = 0; k < nibbles.length; k += 2) packed[k / 2] = nibbles[k]! | (nibbles[k + 1]! << 4);
  const groups = (outF * inF) / group;
  const scales = Float32Array.from(seededFloats(groups, 8, 0.02), (v) => Math.abs(v) + 0.001);
  const zeros = Float32Array.from(seededFloats(groups, 9, 1), (v) => Math.round((v + 1) * 7.5));
  const w = new Float32Array(outF * inF);
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) {
      const g = o * (inF / group) + Math.floor(i / group);
      w[o * inF + i] = (nibbles[o * inF + i]! - zeros[g]!) * scales[g]!;
    }
  }
  return { packed, scales, zeros, w };
}

async function referenceMatMul(x: Float32Array, xShape: number[], w: Float32Array, outF: number, inF: number): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const y = tf.tidy(() => tf.matMul(tf.reshape(tf.tensor(x, xShape), [-1, inF]), tf.tensor2d(w, [outF, inF]), false, true));
  const data = new Float32Array(await y.data());
  y.dispose();
  return data;
}

beforeAll(prepareBackends);

describe('int8MatMul (per-channel)', () => {
  for (const [rows, outF, inF] of [
    [1, 9, 12],
    [7, 33, 20],
    [130, 64, 260],
  ] as [number, number, number][]) {
    it(`x [${rows}, ${inF}] · W [${outF}, ${inF}]ᵀ matches dequantize-then-matmul`, async () => {
      const { q, scales, w } = int8Case(outF, inF);
      const x = seededFloats(rows * inF, 10);
      const expected = await referenceMatMul(x, [rows, inF], w, outF, inF);
      await tf.setBackend('wasm');
      const y = tf.tidy(() =>
        int8MatMul({ x: tf.tensor2d(x, [rows, inF]), qweight: int8WeightTensor({ bytes: q, outFeatures: outF, inFeatures: inF }), scales: tf.tensor1d(scales) }),
      );
      expect(y.shape).toEqual([rows, outF]);
      expect(toleranceRatio(new Float32Array(await y.data()), expected, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
      y.dispose();
    });
  }

  it('dequantizeInt8 recovers q · scale', async () => {
    await tf.setBackend('cpu');
    const { q, scales, w } = int8Case(3, 8);
    const d = tf.tidy(() => dequantizeInt8({ qweight: int8WeightTensor({ bytes: q, outFeatures: 3, inFeatures: 8 }), scales: tf.tensor1d(scales) }));
    expect(Array.from(await d.data())).toEqual(Array.from(w));
    d.dispose();
  });

  it('rejects mismatched shapes and bad packing with KernelsError naming the field', async () => {
    await tf.setBackend('wasm');
    const qweight = tf.zeros([4, 2], 'int32');
    expect(() => int8MatMul({ x: tf.zeros([2, 12]), qweight, scales: tf.zeros([4]) })).toThrow(/qweight/);
    try {
      int8MatMul({ x: tf.zeros([2, 8]), qweight, scales: tf.zeros([3]) });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(KernelsError);
      expect((error as KernelsError).context.field).toBe('scales');
    }
    expect(() => int8WeightTensor({ bytes: new Int8Array(6), outFeatures: 2, inFeatures: 3 })).toThrow(/multiple of 4/);
    expect(() => int8WeightTensor({ bytes: new Int8Array(6), outFeatures: 2, inFeatures: 4 })).toThrow(/expected 8 bytes/);
    qweight.dispose();
  });
});

describe('int4MatMul (group-wise, low nibble first)', () => {
  for (const [rows, outF, inF, group] of [
    [1, 5, 16, 8],
    [9, 17, 64, 32],
    [70, 48, 320, 64],
    [3, 4, 24, 24],
  ] as [number, number, number, number][]) {
    it(`x [${rows}, ${inF}] · W [${outF}, ${inF}]ᵀ, groups of ${group}`, async () => {
      const { packed, scales, zeros, w } = int4Case(outF, inF, group);
      const x = seededFloats(rows * inF, 11);
      const expected = await referenceMatMul(x, [rows, inF], w, outF, inF);
      await tf.setBackend('wasm');
      const y = tf.tidy(() =>
        int4MatMul({
          x: tf.tensor2d(x, [rows, inF]),
          packed: int4WeightTensor({ bytes: packed, outFeatures: outF, inFeatures: inF }),
          scales: tf.tensor2d(scales, [outF, inF / group]),
          zeros: tf.tensor2d(zeros, [outF, inF / group]),
          groupSize: group,
        }),
      );
      expect(toleranceRatio(new Float32Array(await y.data()), expected, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
      y.dispose();
    });
  }

  it('the cpu fallback dequantizes exactly (dequantizeInt4)', async () => {
    await tf.setBackend('cpu');
    const { packed, scales, zeros, w } = int4Case(2, 16, 8);
    const d = tf.tidy(() =>
      dequantizeInt4({
        packed: int4WeightTensor({ bytes: packed, outFeatures: 2, inFeatures: 16 }),
        scales: tf.tensor2d(scales, [2, 2]),
        zeros: tf.tensor2d(zeros, [2, 2]),
        groupSize: 8,
      }),
    );
    expect(toleranceRatio(new Float32Array(await d.data()), w, 1e-12, 1e-6)).toBeLessThanOrEqual(1);
    d.dispose();
  });

  it('rejects a group size that does not divide in, and mis-shaped scales', async () => {
    await tf.setBackend('wasm');
    const packed = tf.zeros([2, 2], 'int32');
    const base = { x: tf.zeros([1, 16]), packed, scales: tf.zeros([2, 2]), zeros: tf.zeros([2, 2]) };
    expect(() => int4MatMul({ ...base, groupSize: 5 })).toThrow(/groupSize/);
    expect(() => int4MatMul({ ...base, scales: tf.zeros([2, 3]), groupSize: 8 })).toThrow(/scales must be \[2,2\]/);
    expect(() => int4WeightTensor({ bytes: new Uint8Array(3), outFeatures: 1, inFeatures: 12 })).toThrow(/multiple of 8/);
  });
});
