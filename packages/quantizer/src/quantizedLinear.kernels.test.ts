// When @deepline/kernels-wasm has registered its fused dequantize-matmul kernels on the wasm
// backend, QuantizedLinear hands the packed weight to them; results must match the fallback.
import { initBackend, tf } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { seededFloats } from '@deepline/test-helpers';
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantize } from './dequantize.js';
import { QuantizedLinear } from './quantizedLinear.js';
import { quantizeInt4, quantizeInt8 } from './rtn.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  await registerWasmKernels();
});

describe('QuantizedLinear with the wasm kernels', () => {
  const rows = 40;
  const cols = 128;
  const data = seededFloats(rows * cols, 21, 0.3);
  const x = seededFloats(12 * cols, 22, 1);
  for (const weight of [
    quantizeInt8({ data, rows, cols }),
    quantizeInt4({ data, rows, cols, groupSize: 32, symmetric: true }),
    quantizeInt4({ data, rows, cols, groupSize: 64, symmetric: false }),
  ]) {
    it(`${weight.format}${weight.format === 'int4' ? ` g${weight.groupSize}` : ''}: kernel output equals the packed GEMV fallback`, () => {
      const kernel = new QuantizedLinear({ name: 'w', weight });
      const fallback = new QuantizedLinear({ name: 'w', weight, useKernels: false, gemvMaxRows: 64 });
      const input = tf.tensor3d(x, [2, 6, cols]);
      const a = tf.tidy(() => kernel.apply(input).dataSync());
      expect(kernel.lastPath).toBe('kernel');
      const b = tf.tidy(() => fallback.apply(input).dataSync());
      expect(fallback.lastPath).toBe('gemv');
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 3);
      // The packed tensors live across calls and are released by dispose.
      const before = tf.memory().numTensors;
      kernel.dispose();
      expect(tf.memory().numTensors).toBeLessThan(before);
      input.dispose();
    });
  }

  for (const weight of [
    quantizeInt8({ data, rows, cols }),
    quantizeInt4({ data, rows, cols, groupSize: 32, symmetric: true }),
    quantizeInt4({ data, rows, cols, groupSize: 128, symmetric: false }),
  ]) {
    it(`${weight.format}${weight.format === 'int4' ? ` g${weight.groupSize}` : ''}: decode-sized inputs take the SIMD GEMV kernel and match the dequantized weight`, () => {
      const linear = new QuantizedLinear({ name: 'w', weight });
      const dense = tf.tidy(() => tf.matMul(tf.tensor2d(x, [12, cols]), linear.weightMatrix(), false, true).dataSync());
      for (const m of [1, 3, 6]) {
        const y = tf.tidy(() => linear.apply(tf.tensor2d(x.subarray(0, m * cols), [m, cols])).dataSync());
        expect(linear.lastPath, `m = ${m}`).toBe('kernel-gemv');
        for (let i = 0; i < m * rows; i++) expect(y[i]).toBeCloseTo(dense[i]!, 4);
      }
      // The weight matrix comes from the wasm dequantize kernel; equal to the JS dequantizer.
      const viaKernel = tf.tidy(() => linear.weightMatrix().dataSync());
      const js = dequantize(weight);
      expect(viaKernel.length).toBe(js.length);
      for (let i = 0; i < js.length; i++) expect(viaKernel[i]).toBeCloseTo(js[i]!, 6);
      // Above gemvMaxRows (8) the dequantizing GEMM kernel takes over.
      tf.tidy(() => linear.apply(tf.tensor2d(x, [12, cols])));
      expect(linear.lastPath).toBe('kernel');
      linear.dispose();
    });
  }
});
