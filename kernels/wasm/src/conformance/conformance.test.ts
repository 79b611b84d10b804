import { tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attention } from '../ops/attention.js';
import { QUANT_KERNEL } from '../kernels/quantKernels.js';
import { crossEntropy } from '../ops/crossEntropy.js';
import { dequantizeInt4, dequantizeInt8, int4MatMul, int8MatMul } from '../ops/quantMatMul.js';
import { segmentSum } from '../ops/segmentSum.js';
import { applyRope } from '../ops/rope.js';
import { rmsNorm } from '../ops/rmsNorm.js';
import { siluMul } from '../ops/siluMul.js';
import { type CaseInput, prepareBackends, runCase, toleranceRatio } from './compareBackends.js';

// Every kernel in the pack runs on wasm and is compared, forward and gradients, with the cpu
// backend running tfjs' own kernels on the composed-op definition (the independent oracle).

interface Case {
  name: string;
  inputs: CaseInput[];
  fn: (xs: tf.Tensor[]) => tf.Tensor;
  atol?: number;
  rtol?: number;
}

async function expectConforms({ inputs, fn, atol = 1e-4, rtol = 2e-3 }: Case): Promise<void> {
  const reference = await runCase('cpu', inputs, fn);
  const ours = await runCase('wasm', inputs, fn);
  expect(ours.value.length).toBe(reference.value.length);
  expect(toleranceRatio(ours.value, reference.value, atol, rtol)).toBeLessThanOrEqual(1);
  expect(ours.grads.length).toBe(reference.grads.length);
  for (const [i, g] of ours.grads.entries()) {
    expect(toleranceRatio(g, reference.grads[i]!, atol, rtol), `gradient ${i}`).toBeLessThanOrEqual(1);
  }
}

const f = (shape: number[], seed: number, grad = true): CaseInput => ({ shape, seed, grad });

beforeAll(prepareBackends);

describe('BatchMatMul (register-blocked SIMD GEMM)', () => {
  const shapes: [string, number[], number[], boolean, boolean][] = [
    ['plain 2-D', [37, 19], [19, 23], false, false],
    ['transposeA', [19, 37], [19, 23], true, false],
    ['transposeB', [37, 19], [23, 19], false, true],
    ['both transposed', [19, 37], [23, 19], true, true],
    ['size 1 everywhere', [1, 1], [1, 1], false, false],
    ['row vector', [1, 130], [130, 9], false, false],
    ['k = 1', [5, 1], [1, 7], false, false],
    ['large-ish, K blocked', [70, 300], [300, 130], false, false],
    ['batched attention-like', [3, 2, 17, 8], [3, 2, 17, 8], false, true],
    ['broadcast batch', [4, 9, 6], [1, 6, 5], false, false],
  ];
  for (const [name, a, b, ta, tb] of shapes) {
    // tfjs' own BatchMatMul gradient cannot reduce broadcast batches (on any backend), so
    // that case is checked forward only.
    const grad = !name.includes('broadcast');
    it(name, async () => {
      await expectConforms({ name, inputs: [f(a, 11, grad), f(b, 12, grad)], fn: ([x, y]) => tf.matMul(x!, y!, ta, tb) });
    });
  }
});

it('BatchMatMul broadcasts batch axes independently (rank 4) like explicit tiling', async () => {
  // tfjs-cpu mis-sizes this case itself, so the oracle is cpu matMul on tiled operands.
  const a: CaseInput = f([2, 1, 5, 3], 13, false);
  const b: CaseInput = f([1, 3, 3, 4], 14, false);
  const reference = await runCase('cpu', [a, b], ([x, y]) => tf.matMul(tf.tile(x!, [1, 3, 1, 1]), tf.tile(y!, [2, 1, 1, 1])));
  const ours = await runCase('wasm', [a, b], ([x, y]) => tf.matMul(x!, y!));
  expect(ours.value.length).toBe(2 * 3 * 5 * 4);
  expect(toleranceRatio(ours.value, reference.value, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
});

it('BatchMatMul on int32 tensors is left to the stock kernel (no float reinterpretation)', async () => {
  await tf.setBackend('wasm');
  const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
  expect(() => tf.matMul(a, a).dataSync()).toThrow(/float32|supported/);
  a.dispose();
});

describe('fused ops', () => {
  it('rmsNorm, odd width', async () => {
    await expectConforms({ name: 'rmsNorm', inputs: [f([3, 5, 19], 1), f([19], 2)], fn: ([x, w]) => rmsNorm({ x: x!, weight: w!, eps: 1e-5 }) });
  });
  it('rmsNorm, width 1 and width 128', async () => {
    await expectConforms({ name: 'rmsNorm1', inputs: [f([4, 1], 3), f([1], 4)], fn: ([x, w]) => rmsNorm({ x: x!, weight: w! }) });
    await expectConforms({ name: 'rmsNorm128', inputs: [f([64, 128], 5), f([128], 6)], fn: ([x, w]) => rmsNorm({ x: x!, weight: w! }) });
  });
  it('siluMul, odd and large sizes', async () => {
    await expectConforms({ name: 'siluMul', inputs: [{ ...f([7, 13], 7), scale: 6 }, f([7, 13], 8)], fn: ([g, u]) => siluMul({ gate: g!, up: u! }) });
    await expectConforms({ name: 'siluMulBig', inputs: [f([257, 96], 9), f([257, 96], 10)], fn: ([g, u]) => siluMul({ gate: g!, up: u! }) });
  });
  it('applyRope, odd half-dim and dim 2', async () => {
    for (const [shape, seed] of [
      [[2, 5, 3, 10], 21],
      [[1, 1, 1, 2], 22],
      [[2, 16, 4, 32], 23],
    ] as [number[], number][]) {
      const [, seq, , dim] = shape as [number, number, number, number];
      const angles = Float32Array.from({ length: seq * (dim / 2) }, (_, i) => 0.37 * i);
      await expectConforms({
        name: 'rope',
        inputs: [f(shape, seed), { shape: [seq, dim / 2], data: angles.map(Math.cos) }, { shape: [seq, dim / 2], data: angles.map(Math.sin) }],
        fn: ([x, c, s]) => applyRope({ x: x as tf.Tensor4D, cos: c as tf.Tensor2D, sin: s as tf.Tensor2D }),
      });
    }
  });
  for (const [name, tq, tk, causal] of [
    ['causal self-attention, odd sizes', 7, 7, true],
    ['non-causal, tq ≠ tk', 5, 9, false],
    ['causal with a cache (tq < tk)', 3, 11, true],
    ['single token', 1, 1, true],
    ['large-ish causal', 64, 64, true],
  ] as [string, number, number, boolean][]) {
    it(`attention: ${name}`, async () => {
      await expectConforms({
        name,
        inputs: [{ ...f([2, tq, 3, 8], 31), scale: 2 }, f([2, tk, 3, 8], 32), f([2, tk, 3, 8], 33)],
        fn: ([q, k, v]) => attention({ q: q as tf.Tensor4D, k: k as tf.Tensor4D, v: v as tf.Tensor4D, causal }),
      });
    });
  }
});

it('crossEntropy, odd vocab and a large row', async () => {
  for (const [n, vocab] of [
    [5, 13],
    [64, 512],
    [1, 2],
  ] as [number, number][]) {
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % vocab);
    await expectConforms({
      name: 'crossEntropy',
      inputs: [{ ...f([n, vocab], 51), scale: 4 }, { shape: [n], data: labels, dtype: 'int32' }],
      fn: ([x, l]) => crossEntropy({ logits: x as tf.Tensor2D, labels: l as tf.Tensor1D }),
    });
  }
});

describe('sparse dispatch', () => {
  it('gather rows and their gradient (UnsortedSegmentSum), repeated and unused ids', async () => {
    const ids = Int32Array.from([4, 0, 4, 2, 9, 4, 1]);
    await expectConforms({
      name: 'gather',
      inputs: [f([10, 13], 41), { shape: [7], data: ids, dtype: 'int32' }],
      fn: ([table, index]) => tf.gather(table!, index as tf.Tensor1D),
    });
  });
  it('unsortedSegmentSum with repeated and empty segments, odd row width', async () => {
    const ids = Int32Array.from([0, 3, 3, 1, 0, 3]);
    await expectConforms({
      name: 'uss',
      inputs: [f([6, 5], 42), { shape: [6], data: ids, dtype: 'int32' }],
      fn: ([x, s]) => tf.unsortedSegmentSum(x!, s as tf.Tensor1D, 4),
    });
  });
  it('segmentSum (MoE combine) forward and its gather gradient, with a dropped id', async () => {
    // (tfjs' reference gradient handles negative dropped ids only, so that is what is compared.)
    for (const ids of [[2, 0, 2, 1, 0], [2, 0, -1, 2, 1]]) {
      await expectConforms({
        name: 'segmentSum',
        inputs: [f([5, 7], 44), { shape: [5], data: Int32Array.from(ids), dtype: 'int32' }],
        fn: ([x, s]) => segmentSum({ x: x!, segmentIds: s as tf.Tensor1D, numSegments: 3 }),
      });
    }
  });
  it('gather on axis 1 falls back to the stock kernel', async () => {
    await expectConforms({
      name: 'gatherAxis1',
      inputs: [f([3, 6], 43, false), { shape: [2], data: Int32Array.from([5, 1]), dtype: 'int32' }],
      fn: ([x, i]) => tf.gather(x!, i!, 1),
    });
  });
});

describe('quantized GEMV (packed bytes, M ≤ 4) vs dequantize-then-matMul on cpu', () => {
  // Shapes drawn from a fixed LCG: in = 32…1024 (a multiple of the group), groups 32/64/128,
  // M = 1..4, odd out sizes; plus M = 6 through the always-GEMV kernel (two passes).
  let state = 12345;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const byteData = (count: number, seed: number): Int32Array => {
    const bytes = new Uint8Array(count);
    let h = seed >>> 0;
    for (let i = 0; i < count; i++) {
      h = (Math.imul(h ^ (h >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
      bytes[i] = h >>> 24;
    }
    return new Int32Array(bytes.buffer);
  };
  /** Relative to the output's largest magnitude: max |ours − ref| ≤ 1e-4 · max |ref| (and per element). */
  const expectClose = (ours: Float32Array, ref: Float32Array) => {
    const peak = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(toleranceRatio(ours, ref, 1e-4 * peak, 1e-4)).toBeLessThanOrEqual(1);
  };
  const run = async (inputs: CaseInput[], fn: (xs: tf.Tensor[]) => tf.Tensor) => {
    const reference = await runCase('cpu', inputs, fn);
    const ours = await runCase('wasm', inputs, fn);
    expect(ours.value.length).toBe(reference.value.length);
    expectClose(ours.value, reference.value);
  };

  const cases = Array.from({ length: 8 }, (_, i) => {
    const group = [32, 64, 128][next(3)]!;
    const inF = group * (1 + next(Math.floor(1024 / group)));
    return { m: (i % 4) + 1, outF: 2 * next(40) + 1, inF, group, asymmetric: i % 2 === 1 };
  });
  cases.push({ m: 6, outF: 7, inF: 64, group: 32, asymmetric: true });
  for (const { m, outF, inF, group, asymmetric } of cases) {
    const groups = outF * (inF / group);
    const zeros: CaseInput = asymmetric
      ? { shape: [outF, inF / group], data: Float32Array.from({ length: groups }, () => next(16)) }
      : { shape: [outF, inF / group], data: new Float32Array(groups).fill(8) };
    const inputs: CaseInput[] = [
      { shape: [m, inF], seed: 31 },
      { shape: [outF, inF / 8], data: byteData((outF * inF) / 2, inF + outF), dtype: 'int32' },
      { shape: [outF, inF / group], data: Float32Array.from({ length: groups }, () => 0.001 + next(1000) / 20000) },
      zeros,
    ];
    it(`int4 g${group}: x [${m}, ${inF}] · W [${outF}, ${inF}]ᵀ${asymmetric ? ' (asymmetric zeros)' : ''}`, async () => {
      await run(inputs, ([x, packed, scales, z]) => {
        const options = { x: x!, packed: packed!, scales: scales!, zeros: z!, groupSize: group };
        // m > 4 exercises the GEMV-only kernel's passes; int4MatMul itself takes the GEMM there.
        if (m > 4 && tf.getBackend() === 'wasm') return tf.engine().runKernel(QUANT_KERNEL.int4Gemv, { x: x!, packed: packed!, scales: scales!, zeros: z! }, { groupSize: group }) as tf.Tensor;
        return int4MatMul(options);
      });
    });
  }

  it('dequantize kernels (int4 g32/g128 asymmetric, int8) equal the JS dequantizers', async () => {
    for (const [outF, inF, group] of [
      [7, 256, 32],
      [3, 384, 128],
    ] as [number, number, number][]) {
      const groups = outF * (inF / group);
      const zeros: CaseInput = { shape: [outF, inF / group], data: Float32Array.from({ length: groups }, () => next(16)) };
      const inputs: CaseInput[] = [
        { shape: [outF, inF / 8], data: byteData((outF * inF) / 2, 3 * inF + outF), dtype: 'int32' },
        { shape: [outF, inF / group], data: Float32Array.from({ length: groups }, () => 0.001 + next(1000) / 20000) },
        zeros,
      ];
      await run(inputs, ([packed, scales, z]) =>
        tf.getBackend() === 'wasm'
          ? (tf.engine().runKernel(QUANT_KERNEL.int4Dequantize, { packed: packed!, scales: scales!, zeros: z! }, { groupSize: group }) as tf.Tensor)
          : dequantizeInt4({ packed: packed!, scales: scales!, zeros: z!, groupSize: group }),
      );
    }
    const inputs: CaseInput[] = [
      { shape: [5, 48 / 4], data: byteData(5 * 48, 99), dtype: 'int32' },
      { shape: [5], data: Float32Array.from({ length: 5 }, () => 0.001 + next(1000) / 20000) },
    ];
    await run(inputs, ([qweight, scales]) =>
      tf.getBackend() === 'wasm'
        ? (tf.engine().runKernel(QUANT_KERNEL.int8Dequantize, { qweight: qweight!, scales: scales! }) as tf.Tensor)
        : dequantizeInt8({ qweight: qweight!, scales: scales! }),
    );
  });

  for (const [m, outF, inF] of [
    [1, 33, 32],
    [2, 17, 272],
    [3, 9, 1024],
    [4, 65, 128],
    [6, 5, 48],
  ] as [number, number, number][]) {
    const inputs: CaseInput[] = [
      { shape: [m, inF], seed: 41 },
      { shape: [outF, inF / 4], data: byteData(outF * inF, 7 * inF + outF), dtype: 'int32' },
      { shape: [outF], data: Float32Array.from({ length: outF }, () => 0.001 + next(1000) / 20000) },
    ];
    it(`int8 per-channel: x [${m}, ${inF}] · W [${outF}, ${inF}]ᵀ`, async () => {
      await run(inputs, ([x, qweight, scales]) => {
        if (m > 4 && tf.getBackend() === 'wasm') return tf.engine().runKernel(QUANT_KERNEL.int8Gemv, { x: x!, qweight: qweight!, scales: scales! }) as tf.Tensor;
        return int8MatMul({ x: x!, qweight: qweight!, scales: scales! });
      });
    });
  }
});

it('identity (tf.clone) shares the buffer yet stays correct after the source is disposed', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  expect(y.dataId).toBe(x.dataId);
  x.dispose();
  expect(Array.from(await y.data())).toEqual([1, 2, 3]);
  y.dispose();
});

it('the suite really ran deepline kernels on wasm (not tfjs stock ones)', async () => {
  const { batchMatMulKernel } = await import('../kernels/batchMatMul.js');
  const { KERNEL } = await import('../kernels/fusedKernels.js');
  expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(batchMatMulKernel);
  for (const name of Object.values(KERNEL)) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
  expect(tf.getKernel(KERNEL.attention, 'cpu')).toBeUndefined();
});
