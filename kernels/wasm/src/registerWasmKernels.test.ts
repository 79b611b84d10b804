import { fusedOp, listKernelPacks, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareBackends } from './conformance/compareBackends.js';
import { KernelsError } from './errors.js';
import { attention } from './ops/attention.js';
import { applyRope } from './ops/rope.js';
import { rmsNorm } from './ops/rmsNorm.js';
import { segmentSum } from './ops/segmentSum.js';
import { siluMul } from './ops/siluMul.js';
import { crossEntropy } from './ops/crossEntropy.js';
import { WASM_FUSED_OPS, WASM_KERNEL_PACK, registerWasmKernels, unregisterWasmKernels } from './registerWasmKernels.js';

beforeAll(prepareBackends);

describe('registerWasmKernels / unregisterWasmKernels', () => {
  it('registered before initBackend, the pack wins over core fixes once wasm is selected', async () => {
    await tf.setBackend('wasm');
    const pack = listKernelPacks().find((p) => p.name === WASM_KERNEL_PACK);
    expect(pack?.applied).toBe(true);
    // core's own JS UnsortedSegmentSum fix is replaced by the SIMD one.
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc.name).toBe('unsortedSegmentSum');
  });

  it('is idempotent, and unregistering restores the stock kernels and composed ops', async () => {
    await tf.setBackend('wasm');
    await registerWasmKernels();
    const ours = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    await registerWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(ours);
    await unregisterWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(ours);
    expect(tf.getKernel('DeeplineAttention', 'wasm')).toBeUndefined();
    for (const name of WASM_FUSED_OPS) expect(fusedOp(name)).toBeUndefined();
    // The ops still work (composed tfjs ops) and give the same numbers.
    const x = tf.tensor2d([[1, 2, 3]]);
    const w = tf.tensor1d([1, 1, 2]);
    const stock = rmsNorm({ x, weight: w }).dataSync();
    await registerWasmKernels();
    const fused = rmsNorm({ x, weight: w }).dataSync();
    // core's fused-op registry hands models these ops on wasm, and nothing on cpu.
    expect(fusedOp('rmsNorm')).toBe(rmsNorm);
    expect(fusedOp('attention')).toBe(attention);
    expect(fusedOp('siluMul')).toBe(siluMul);
    expect(fusedOp('crossEntropy')).toBe(crossEntropy);
    await tf.setBackend('cpu');
    expect(fusedOp('rmsNorm')).toBeUndefined();
    await tf.setBackend('wasm');
    const rms = Math.sqrt((1 + 4 + 9) / 3 + 1e-6);
    expect(Array.from(fused).map((v) => +v.toFixed(5))).toEqual([1 / rms, 2 / rms, 6 / rms].map((v) => +v.toFixed(5)));
    expect(Array.from(stock).map((v) => +v.toFixed(5))).toEqual(Array.from(fused).map((v) => +v.toFixed(5)));
    tf.dispose([x, w]);
  });

  it('fused ops leak no tensors through forward and backward', async () => {
    await tf.setBackend('wasm');
    const q = tf.randomNormal([1, 4, 2, 4]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor) => tf.sum(attention({ q: a as tf.Tensor4D, k: q, v: q })))([q]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    q.dispose();
  });
});

describe('bad input raises KernelsError naming the field', () => {
  const cases: [string, () => unknown, string][] = [
    ['rmsNorm weight', () => rmsNorm({ x: tf.zeros([2, 4]), weight: tf.zeros([3]) }), 'weight'],
    ['siluMul shapes', () => siluMul({ gate: tf.zeros([2, 4]), up: tf.zeros([2, 5]) }), 'up'],
    ['rope odd dim', () => applyRope({ x: tf.zeros([1, 2, 1, 3]) as tf.Tensor4D, cos: tf.zeros([2, 1]) as tf.Tensor2D, sin: tf.zeros([2, 1]) as tf.Tensor2D }), 'cos'],
    ['attention heads', () => attention({ q: tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, k: tf.zeros([1, 2, 3, 4]) as tf.Tensor4D, v: tf.zeros([1, 2, 3, 4]) as tf.Tensor4D }), 'k'],
    ['attention scale', () => attention({ q: tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, k: tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, v: tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, scale: -1 }), 'scale'],
    ['segmentSum ids', () => segmentSum({ x: tf.zeros([3, 2]), segmentIds: tf.tensor1d([0, 1], 'int32'), numSegments: 2 }), 'segmentIds'],
    ['segmentSum count', () => segmentSum({ x: tf.zeros([2, 2]), segmentIds: tf.tensor1d([0, 1], 'int32'), numSegments: 1.5 }), 'numSegments'],
    ['crossEntropy labels', () => crossEntropy({ logits: tf.zeros([2, 3]) as tf.Tensor2D, labels: tf.tensor1d([0, 1, 2], 'int32') }), 'labels'],
  ];
  for (const [name, run, field] of cases) {
    it(name, async () => {
      await tf.setBackend('wasm');
      try {
        run();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(KernelsError);
        expect((error as KernelsError).context.field).toBe(field);
      }
    });
  }

  it('a crossEntropy label outside the vocabulary is an error, not a silent value', async () => {
    await tf.setBackend('wasm');
    expect(() => crossEntropy({ logits: tf.zeros([2, 3]) as tf.Tensor2D, labels: tf.tensor1d([0, 3], 'int32') })).toThrow(/label 3 of row 1/);
  });

  it('gather with an out-of-range index is an error', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], 'int32'))).toThrow(/index 3/);
  });
});
