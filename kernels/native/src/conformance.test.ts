import { initBackend, originalKernel, SeededRandom, tf } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { seededFloats, toleranceRatio } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeBatchMatMulCalls } from './nativeBatchMatMul.js';
import {
  type NativeIsa,
  nativeKernelsAvailable,
  registerNativeKernels,
  setNativeIsa,
  setNativeThreads,
  unregisterNativeKernels,
} from './registerNativeKernels.js';
import { restoreNativeDefaults, supportsIsa, useNativeConfig } from './testing/nativeTestConfig.js';

// BatchMatMul on tfjs-wasm through the native GEMM, forward and gradients, against the cpu
// backend running tfjs' own kernels (the independent oracle), for each kernel set and 1 or 2
// threads.

const status = nativeKernelsAvailable();

interface Result {
  value: Float32Array;
  grads: Float32Array[];
}

/** Forward value of fn, and gradients of sum(fn(xs) ⊙ r) for a fixed random cotangent r. */
async function run(
  backend: 'cpu' | 'wasm',
  shapes: number[][],
  fn: (xs: tf.Tensor[]) => tf.Tensor,
  grad: boolean,
): Promise<Result> {
  await tf.setBackend(backend);
  const xs = shapes.map((s, i) =>
    tf.tensor(
      seededFloats(
        s.reduce((a, b) => a * b, 1),
        100 + i * 7 + s.length,
        1,
      ),
      s,
    ),
  );
  try {
    const y = tf.tidy(() => fn(xs));
    const value = new Float32Array(await y.data());
    const r = tf.tensor(seededFloats(y.size, 777), y.shape);
    y.dispose();
    let grads: Float32Array[] = [];
    if (grad) {
      const gs = tf.tidy(() => tf.grads((...vs: tf.Tensor[]) => tf.sum(tf.mul(fn(vs), r)))(xs));
      grads = await Promise.all(gs.map(async (g) => new Float32Array(await g.data())));
      tf.dispose(gs);
    }
    r.dispose();
    return { value, grads };
  } finally {
    tf.dispose(xs);
  }
}

async function expectConforms(
  shapes: number[][],
  fn: (xs: tf.Tensor[]) => tf.Tensor,
  grad = true,
): Promise<void> {
  const reference = await run('cpu', shapes, fn, grad);
  const before = nativeBatchMatMulCalls();
  const ours = await run('wasm', shapes, fn, grad);
  expect(nativeBatchMatMulCalls(), 'the native kernel ran').toBeGreaterThan(before);
  expect(toleranceRatio(ours.value, reference.value, 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  expect(ours.grads.length).toBe(reference.grads.length);
  for (const [i, g] of ours.grads.entries())
    expect(toleranceRatio(g, reference.grads[i]!, 1e-4, 1e-3), `gradient ${i}`).toBeLessThanOrEqual(
      1,
    );
}

/** [a shape, b shape, transposeA, transposeB, gradients?] */
type Case = [number[], number[], boolean, boolean, boolean];

function cases(): [string, Case][] {
  const rng = new SeededRandom(99);
  const out: [string, Case][] = [
    ['size 1 everywhere', [[1, 1], [1, 1], false, false, true]],
    ['k = 1', [[5, 1], [1, 7], false, false, true]],
    ['narrow output (MoE router: n = 4)', [[70, 40], [40, 4], false, false, true]],
    ['row vector (GEMV)', [[1, 130], [130, 9], false, false, true]],
    ['row vector, transposeB (GEMV over columns)', [[1, 70], [33, 70], false, true, true]],
    ['column output (n = 1)', [[41, 29], [29, 1], false, false, true]],
    ['large-ish: K and M blocked, threaded', [[300, 520], [520, 133], false, false, true]],
    ['batched attention-like, transposeB', [[3, 2, 17, 8], [3, 2, 17, 8], false, true, true]],
    ['batched, transposeA', [[4, 9, 13], [4, 9, 5], true, false, true]],
    ['broadcast batch', [[4, 9, 6], [1, 6, 5], false, false, false]],
    ['rank-3 by rank-2 broadcast', [[3, 7, 11], [11, 4], false, false, false]],
  ];
  for (let i = 0; i < 6; i++) {
    const [m, n, k] = [1 + rng.int(70), 1 + rng.int(70), 1 + rng.int(90)];
    const ta = i % 2 === 1;
    const tb = i >= 2 && i < 4 ? true : i >= 4;
    out.push([
      `random ${m}x${n}x${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`,
      [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n], ta, tb, true],
    ]);
  }
  return out;
}

beforeAll(async () => {
  if (!status.available) return;
  await registerWasmKernels();
  await registerNativeKernels({ threads: 1 });
  await initBackend({ backend: 'wasm' });
  await tf.setBackend('cpu');
});

afterAll(async () => {
  if (!status.available) return;
  restoreNativeDefaults();
  await unregisterNativeKernels();
});

const configs: [NativeIsa, number][] = [
  ['auto', 1],
  ['avx2', 2],
  ['generic', 2],
];

describe.runIf(status.available)(
  'BatchMatMul on tfjs-wasm through the native GEMM vs tfjs-cpu',
  () => {
    for (const [isa, threads] of configs) {
      describe(`${isa} kernels, ${threads} thread(s)`, () => {
        beforeAll(() => {
          if (supportsIsa(isa)) useNativeConfig(isa, threads);
        });
        for (const [name, [a, b, ta, tb, grad]] of cases()) {
          it.runIf(supportsIsa(isa))(name, async () => {
            await expectConforms([a, b], ([x, y]) => tf.matMul(x!, y!, ta, tb), grad);
          });
        }
      });
    }

    it('gradients through a chain of matmuls (the 2-layer MLP pattern) match', async () => {
      setNativeIsa('auto');
      setNativeThreads(2);
      await expectConforms(
        [
          [33, 40],
          [40, 57],
          [29, 57],
        ],
        ([x, w1, w2]) => tf.matMul(tf.relu(tf.matMul(x!, w1!)), w2!, false, true),
      );
    });

    it('int32 inputs go to the kernel underneath (no float reinterpretation)', async () => {
      await tf.setBackend('wasm');
      const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
      const before = nativeBatchMatMulCalls();
      // The stock/wasm kernels reject int32 matmul on wasm; what matters is that it is not ours.
      try {
        tf.matMul(a, a).dispose();
      } catch {
        // rejected by the kernel underneath
      }
      expect(nativeBatchMatMulCalls()).toBe(before);
      a.dispose();
      await tf.setBackend('cpu');
    });

    it('unregistering restores the wasm pack’s BatchMatMul, registering puts the native one back', async () => {
      await tf.setBackend('wasm');
      const native = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
      await unregisterNativeKernels();
      const underneath = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
      expect(underneath).not.toBe(native);
      // Not the stock kernel either: the wasm pack's GEMM is what the native pack sat on.
      expect(underneath).not.toBe(originalKernel('BatchMatMul', 'wasm')!.kernelFunc);
      await registerNativeKernels({ threads: 1 });
      expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(underneath);
      await tf.setBackend('cpu');
    });
  },
);
