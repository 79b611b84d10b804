import { initBackend, tf } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';
import { CONSTANT_MATMUL_KERNEL, nativeConstantPacks } from './nativeConstantMatMul.js';
import {
  type NativeIsa,
  nativeKernelsAvailable,
  registerNativeKernels,
  setNativeIsa,
  setNativeThreads,
  unregisterNativeKernels,
} from './registerNativeKernels.js';

// The constant-weight matmul (B packed once) on tfjs-wasm: bitwise equal to the native
// BatchMatMul that re-packs B every call, and close to the cpu backend's matMul.

const status = nativeKernelsAvailable();
const isas = (status.supportedIsas ?? []) as NativeIsa[];

function constantMatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.engine().runKernel(CONSTANT_MATMUL_KERNEL, { a, b }, {}) as tf.Tensor2D;
}

// [rows, k, n] with n > 8 (narrower B goes down another path when re-packed): edge tiles in M and N, K past one packed block (kc is 192 or 256), N past NR.
const SHAPES: [number, number, number][] = [
  [5, 16, 9],
  [8, 256, 96],
  [13, 300, 37],
  [32, 256, 1024],
  [70, 520, 65],
];

describe.skipIf(!status.available)('constant-weight matmul (packed once)', () => {
  beforeAll(async () => {
    await registerNativeKernels({ threads: 2 });
    await initBackend({ backend: 'wasm' });
  });
  afterAll(async () => {
    setNativeIsa('auto');
    setNativeThreads(2);
    await unregisterNativeKernels();
  });

  it.each(isas)('equals the re-packing GEMM bit for bit and the cpu backend closely (%s)', async (isa) => {
    setNativeIsa(isa);
    for (const threads of [1, 2]) {
      setNativeThreads(threads);
      for (const [rows, k, n] of SHAPES) {
        const aData = seededFloats(rows * k, rows + k, 1);
        const bData = seededFloats(k * n, k + n, 1);
        await tf.setBackend('wasm');
        const a = tf.tensor2d(aData, [rows, k]);
        const b = tf.tensor2d(bData, [k, n]);
        const before = nativeConstantPacks();
        const ours = constantMatMul(a, b);
        const again = constantMatMul(a, b);
        // Packed once per weight (and kernel set), then reused.
        expect(nativeConstantPacks() - before).toBe(1);
        const repacked = tf.matMul(a, b);
        const oursData = await ours.data();
        expect(Array.from(await again.data())).toEqual(Array.from(oursData));
        expect(Array.from(oursData), `${isa} ${threads}t ${rows}x${k}x${n}`).toEqual(Array.from(await repacked.data()));
        tf.dispose([a, b, ours, again, repacked]);
        await tf.setBackend('cpu');
        const cpu = tf.tidy(() => tf.matMul(tf.tensor2d(aData, [rows, k]), tf.tensor2d(bData, [k, n])));
        const cpuData = await cpu.data();
        cpu.dispose();
        let worst = 0;
        for (let i = 0; i < cpuData.length; i++) worst = Math.max(worst, Math.abs(cpuData[i]! - oursData[i]!));
        expect(worst).toBeLessThan(1e-4 * Math.sqrt(k));
      }
    }
    await tf.setBackend('wasm');
  });

  it.skipIf(isas.length < 2)('repacks after the kernel set changes and falls back for non-2-D inputs', async () => {
    await tf.setBackend('wasm');
    setNativeIsa('auto');
    const a = tf.tensor2d(seededFloats(6 * 40, 1, 1), [6, 40]);
    const b = tf.tensor2d(seededFloats(40 * 24, 2, 1), [40, 24]);
    const first = await constantMatMul(a, b).data();
    const before = nativeConstantPacks();
    setNativeIsa('generic');
    const generic = await constantMatMul(a, b).data();
    expect(nativeConstantPacks() - before).toBe(1);
    setNativeIsa('auto');
    for (let i = 0; i < first.length; i++) expect(Math.abs(generic[i]! - first[i]!)).toBeLessThan(1e-4);
    const a3 = tf.reshape(a, [1, 6, 40]) as unknown as tf.Tensor2D;
    const viaFallback = await constantMatMul(a3, b).data();
    expect(Array.from(viaFallback)).toEqual(Array.from(await tf.matMul(a3, b).data()));
    tf.dispose([a, b]);
  });

  it('rejects a buffer that packB did not make', () => {
    const addon = loadAddon().addon!;
    const heap = new Float32Array(64);
    expect(() => addon.gemmPacked(heap, new ArrayBuffer(256), new Float64Array([0, 0, 1, 1, 1, 1]))).toThrow(/not a buffer from packB/);
  });
});
