import { initBackend, tf } from '@deepline/core';
import {
  attention,
  attentionReference,
  crossEntropy,
  crossEntropyReference,
  FUSED_KERNEL_NAMES,
  FusedAdamOptimizer,
  registerWasmKernels,
  rmsNorm,
  rmsNormReference,
  siluMul,
  siluMulReference,
} from '@deepline/kernels-wasm';
import { seededFloats, toleranceRatio } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';
import {
  type NativeIsa,
  nativeKernelsAvailable,
  registerNativeKernels,
  setNativeIsa,
  unregisterNativeKernels,
} from './registerNativeKernels.js';
import { restoreNativeDefaults, supportsIsa, useNativeConfig } from './testing/nativeTestConfig.js';

// The native attention and SwiGLU kernels (registered under the wasm pack's kernel names) on
// tfjs-wasm, forward and gradients, against the composed tfjs definitions on the cpu backend.

const status = nativeKernelsAvailable();

async function run(
  backend: 'cpu' | 'wasm',
  shapes: number[][],
  fn: (xs: tf.Tensor[]) => tf.Tensor,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = shapes.map((s, i) =>
    tf.tensor(
      seededFloats(
        s.reduce((a, b) => a * b, 1),
        40 + i,
        2,
      ),
      s,
    ),
  );
  try {
    const y = tf.tidy(() => fn(xs));
    const r = tf.tensor(seededFloats(y.size, 321), y.shape);
    const grads = tf.tidy(() => tf.grads((...vs: tf.Tensor[]) => tf.sum(tf.mul(fn(vs), r)))(xs));
    const out = [
      new Float32Array(await y.data()),
      ...(await Promise.all(grads.map(async (g) => new Float32Array(await g.data())))),
    ];
    tf.dispose([y, r, ...grads]);
    return out;
  } finally {
    tf.dispose(xs);
  }
}

/** Runs `ours` on wasm (native kernels) and `reference` on cpu; compares value and every gradient. */
async function expectConforms(
  shapes: number[][],
  ours: (xs: tf.Tensor[]) => tf.Tensor,
  reference: (xs: tf.Tensor[]) => tf.Tensor,
  kernelName: string,
) {
  const expected = await run('cpu', shapes, reference);
  await tf.setBackend('wasm');
  const profile = await tf.profile(async () => {
    const got = await run('wasm', shapes, ours);
    for (const [i, g] of got.entries())
      expect(
        toleranceRatio(g, expected[i]!, 1e-4, 2e-3),
        i === 0 ? 'value' : `gradient ${i - 1}`,
      ).toBeLessThanOrEqual(1);
  });
  expect(profile.kernelNames).toContain(kernelName);
}

beforeAll(async () => {
  if (!status.available) return;
  await registerWasmKernels();
  await registerNativeKernels({ threads: 2 });
  await initBackend({ backend: 'wasm' });
});

afterAll(async () => {
  if (!status.available) return;
  restoreNativeDefaults();
  await unregisterNativeKernels();
});

const configs: [NativeIsa, number][] = [
  ['auto', 2],
  ['avx2', 1],
  ['generic', 2],
];

describe.runIf(status.available)(
  'native fused attention and SwiGLU vs the composed ops on tfjs-cpu',
  () => {
    for (const [isa, threads] of configs) {
      describe(`${isa} kernels, ${threads} thread(s)`, () => {
        const supported = supportsIsa(isa);
        beforeAll(() => {
          if (supported) useNativeConfig(isa, threads);
        });
        const cases: [string, number, number, number, number, number, boolean][] = [
          ['causal self-attention, odd sizes', 2, 13, 13, 3, 5, true],
          ['causal with a KV cache (tq < tk)', 1, 3, 11, 2, 8, true],
          ['non-causal cross attention', 2, 7, 9, 2, 4, false],
          ['one position, one head', 1, 1, 1, 1, 1, true],
          ['causal over several 32-row blocks', 1, 70, 70, 2, 8, true],
          ['causal over row blocks with a KV offset (tq < tk)', 1, 37, 75, 1, 6, true],
        ];
        for (const [name, batch, tq, tk, heads, dim, causal] of cases) {
          it.runIf(supported)(`attention: ${name}`, async () => {
            const shapes = [
              [batch, tq, heads, dim],
              [batch, tk, heads, dim],
              [batch, tk, heads, dim],
            ];
            const as4 = (xs: tf.Tensor[]) => xs as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
            await expectConforms(
              shapes,
              (xs) => {
                const [q, k, v] = as4(xs);
                return attention({ q, k, v, causal });
              },
              (xs) => {
                const [q, k, v] = as4(xs);
                return attentionReference({ q, k, v, causal, scale: 1 / Math.sqrt(dim) });
              },
              FUSED_KERNEL_NAMES.attentionGrad,
            );
          });
        }
        it.runIf(supported)('rmsNorm over an odd width, x and weight gradients', async () => {
          await expectConforms(
            [[3, 5, 37], [37]],
            ([x, weight]) => rmsNorm({ x: x!, weight: weight!, eps: 1e-5 }),
            ([x, weight]) => rmsNormReference({ x: x!, weight: weight!, eps: 1e-5 }),
            FUSED_KERNEL_NAMES.rmsNormGrad,
          );
        });
        it.runIf(supported)(
          'siluMul on an odd-sized tensor (vector body and scalar tail)',
          async () => {
            await expectConforms(
              [
                [37, 29],
                [37, 29],
              ],
              ([gate, up]) => siluMul({ gate: gate!, up: up! }),
              ([gate, up]) => siluMulReference({ gate: gate!, up: up! }),
              FUSED_KERNEL_NAMES.siluMulGrad,
            );
          },
        );
      });
    }

    it('crossEntropy: loss and logits gradient, and a bad label is rejected naming its row', async () => {
      setNativeIsa('auto');
      const labels = Int32Array.from({ length: 37 }, (_, i) => (i * 7) % 29);
      const make = (fn: typeof crossEntropy) => (xs: tf.Tensor[]) =>
        tf.tidy(() => fn({ logits: xs[0] as tf.Tensor2D, labels: tf.tensor1d(labels, 'int32') }));
      await expectConforms(
        [[37, 29]],
        make(crossEntropy),
        make(crossEntropyReference),
        FUSED_KERNEL_NAMES.crossEntropy,
      );
      await tf.setBackend('wasm');
      const logits = tf.zeros([2, 5]) as tf.Tensor2D;
      const bad = tf.tensor1d([1, 5], 'int32');
      const before = tf.memory().numTensors;
      expect(() => crossEntropy({ logits, labels: bad })).toThrow(
        'crossEntropy: label 5 of row 1 is outside [0, 4]',
      );
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits, bad]);
    });

    it('Adam: three steps match the composed update on tfjs-cpu (odd sizes, one split across threads)', async () => {
      setNativeIsa('auto');
      const sizes = [1, 1003, 70001];
      const train = async (backend: 'cpu' | 'wasm') => {
        await tf.setBackend(backend);
        const vars = sizes.map((n, i) => tf.variable(tf.tensor1d(seededFloats(n, 90 + i, 1))));
        const optimizer = new FusedAdamOptimizer({ learningRate: 0.01, epsilon: 1e-7 });
        const profile = await tf.profile(() => {
          for (let step = 0; step < 3; step++) {
            const grads = Object.fromEntries(
              vars.map((v, i) => [
                v.name,
                tf.tensor1d(seededFloats(v.size, 200 + 10 * step + i, 1)),
              ]),
            );
            optimizer.applyGradients(grads);
            tf.dispose(Object.values(grads));
          }
        });
        const values = await Promise.all(vars.map(async (v) => new Float32Array(await v.data())));
        optimizer.dispose();
        tf.dispose(vars);
        return { values, kernels: profile.kernelNames };
      };
      const reference = await train('cpu');
      const ours = await train('wasm');
      expect(ours.kernels).toContain(FUSED_KERNEL_NAMES.adam);
      for (const [i, v] of ours.values.entries())
        expect(
          toleranceRatio(v, reference.values[i]!, 1e-5, 1e-4),
          `variable ${i}`,
        ).toBeLessThanOrEqual(1);
    });

    it('the addon rejects a tensor range outside the heap instead of reading it', () => {
      const heap = new Float32Array(8);
      expect(() => loadAddon().addon!.siluMul(heap, new Float64Array([0, 16, 0, 8]))).toThrow(
        /up is misaligned or outside the heap/,
      );
      expect(() => loadAddon().addon!.siluMul(heap, new Float64Array([0, 0, 0, 0]))).toThrow(
        /dimensions must be positive/,
      );
    });
  },
);
