import { Worker } from 'node:worker_threads';
import { SeededRandom } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath, loadAddon, resetAddonCache } from './addon.js';
import { NativeKernelsError } from './errors.js';
import { nativeGemm } from './nativeGemm.js';
import {
  nativeKernelsAvailable,
  registerNativeKernels,
  setNativeIsa,
  setNativeThreads,
} from './registerNativeKernels.js';
import { restoreNativeDefaults, useNativeConfig } from './testing/nativeTestConfig.js';

// The addon alone (no tfjs): every kernel set and thread count against a float64 triple loop.

const status = nativeKernelsAvailable();
const isas = (status.supportedIsas ?? []) as ('avx512' | 'avx2' | 'generic')[];

/** Float64 reference of op(A)·op(B) for row-major stored operands. */
function reference(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = ta ? a[p * m + i]! : a[i * k + p]!;
      for (let j = 0; j < n; j++) c[i * n + j] += x * (tb ? b[j * k + p]! : b[p * n + j]!);
    }
  }
  return c;
}

function expectClose(ours: Float32Array, ref: Float64Array, k: number, label: string): void {
  expect(ours.length, label).toBe(ref.length);
  // Inputs are in [-1, 1): a length-k dot product has rounding error ~ sqrt(k)·eps·|terms|.
  const tol = 1e-5 * (4 + Math.sqrt(k) * 2);
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!) / tol);
  expect(worst, label).toBeLessThanOrEqual(1);
}

/** Seeded random shapes, plus the edges: size 1, K = 1, GEMV (m = 1, n = 1), K and M blocking. */
function shapes(): [number, number, number][] {
  const rng = new SeededRandom(2024);
  const out: [number, number, number][] = [
    [1, 1, 1],
    [1, 37, 1],
    [23, 19, 1],
    [1, 301, 130],
    [130, 1, 67],
    [6, 16, 8],
    [14, 32, 16],
    [15, 33, 17],
    [300, 257, 520],
    [200, 4, 128],
    [33, 7, 50],
  ];
  for (let i = 0; i < 10; i++) out.push([1 + rng.int(90), 1 + rng.int(90), 1 + rng.int(300)]);
  return out;
}

afterAll(() => {
  if (status.available) {
    setNativeIsa('auto');
    setNativeThreads(1);
  }
});

describe.runIf(status.available)('native GEMM against a float64 reference', () => {
  it('reports the kernel sets this CPU runs, best first', () => {
    expect(isas.at(-1)).toBe('generic');
    expect(isas).toContain(status.isa);
  });

  for (const isa of ['avx512', 'avx2', 'generic'] as const) {
    for (const threads of [1, 2]) {
      it.runIf(isas.includes(isa))(
        `${isa}, ${threads} thread(s): random shapes, all four transpose modes`,
        () => {
          useNativeConfig(isa, threads);
          for (const [m, n, k] of shapes()) {
            const a = seededFloats(m * k, m * 31 + k, 1);
            const b = seededFloats(k * n, n * 17 + k, 1);
            for (const [ta, tb] of [
              [false, false],
              [true, false],
              [false, true],
              [true, true],
            ] as const) {
              const c = nativeGemm({ a, b, m, n, k, transposeA: ta, transposeB: tb });
              expectClose(
                c,
                reference(a, b, m, n, k, ta, tb),
                k,
                `${m}x${n}x${k} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`,
              );
            }
          }
          restoreNativeDefaults();
        },
      );
    }
  }

  it('is safe to call from several JS threads at once (the pool serves one, the others run inline)', async () => {
    setNativeIsa('auto');
    setNativeThreads(2);
    // Each worker loads the addon itself and checks 40 products of all-ones (every entry = k).
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      const [m, n, k] = [96, 80, 70];
      const a = new Float32Array(m * k).fill(1), b = new Float32Array(k * n).fill(1), c = new Float32Array(m * n);
      let bad = 0;
      for (let i = 0; i < 40; i++) {
        c.fill(-1);
        addon.gemm(a, b, c, new Float64Array([0, 0, 0, m, n, k, k, 1, n, 1, n, 1, m * n]));
        if (c.some((v) => v !== k)) bad++;
      }
      parentPort.postMessage(bad);`;
    const workers = [0, 1].map(
      () => new Worker(code, { eval: true, workerData: { path: addonPath } }),
    );
    const results = workers.map(
      (w) =>
        new Promise<number>((resolve, reject) => w.once('message', resolve).once('error', reject)),
    );
    const a = seededFloats(200 * 150, 5, 1);
    const b = seededFloats(150 * 120, 6, 1);
    const expected = reference(a, b, 200, 120, 150, false, false);
    for (let i = 0; i < 20; i++)
      expectClose(
        nativeGemm({ a, b, m: 200, n: 120, k: 150 }),
        expected,
        150,
        `main thread, round ${i}`,
      );
    expect(await Promise.all(results)).toEqual([0, 0]);
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('k = 0 writes zeros and m·n = 0 is a no-op', () => {
    const out = nativeGemm({
      a: new Float32Array(0),
      b: new Float32Array(0),
      m: 2,
      n: 3,
      k: 0,
      out: new Float32Array(6).fill(7),
    });
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(
      nativeGemm({ a: new Float32Array(0), b: new Float32Array(4), m: 0, n: 4, k: 1 }).length,
    ).toBe(0);
  });

  it('rejects bad inputs with errors naming the field', () => {
    const a = new Float32Array(6);
    expect(() => nativeGemm({ a, b: new Float32Array(6), m: 2, n: 3, k: 4 })).toThrow(
      /a holds 6 values, needs m·k = 8/,
    );
    expect(() => nativeGemm({ a, b: new Float32Array(6), m: 2, n: 3, k: 1.5 })).toThrow(
      NativeKernelsError,
    );
    expect(() => setNativeThreads(0)).toThrow(/threads must be an integer from 1 to 256/);
    expect(() => setNativeIsa('sse9' as never)).toThrow(/isa must be one of/);
    // The addon's own bounds check: an operand reaching past its buffer throws, never reads past it.
    const params = new Float64Array([0, 0, 0, 2, 2, 3, 3, 1, 2, 1, 2, 1, 4]);
    expect(() =>
      loadAddon().addon!.gemm(
        new Float32Array(5),
        new Float32Array(6),
        new Float32Array(4),
        params,
      ),
    ).toThrow(/A reaches past its buffer/);
    expect(() =>
      loadAddon().addon!.gemm(
        new Float32Array(6),
        new Float32Array(6),
        new Float32Array(3),
        params,
      ),
    ).toThrow(/C reaches past its buffer/);
    expect(() =>
      loadAddon().addon!.gemm(
        new Float32Array(6),
        new Float32Array(6),
        new Float32Array(4),
        new Float64Array(3),
      ),
    ).toThrow(/params must hold 13/);
  });
});

describe('without the addon', () => {
  it('reports unavailable with the reason, and registering is a harmless no-op', async () => {
    const saved = process.env.DEEPLINE_NATIVE;
    process.env.DEEPLINE_NATIVE = 'off';
    resetAddonCache();
    try {
      const off = nativeKernelsAvailable();
      expect(off).toEqual({ available: false, reason: 'disabled by DEEPLINE_NATIVE=off' });
      expect(await registerNativeKernels()).toEqual(off);
      expect(() => setNativeThreads(2)).toThrow(
        /native kernels unavailable: disabled by DEEPLINE_NATIVE=off/,
      );
    } finally {
      if (saved === undefined) delete process.env.DEEPLINE_NATIVE;
      else process.env.DEEPLINE_NATIVE = saved;
      resetAddonCache();
    }
  });
});
