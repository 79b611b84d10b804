import v8 from 'node:v8';
import { initBackend, tf } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';
import { beforeAll, describe, expect, it } from 'vitest';
import { toleranceRatio } from '../conformance/compareBackends.js';
import { gemmWorkspaceBytes } from './gemmWat.js';
import { KERNEL_WASM_BASE64, KERNEL_WASM_FMA_BASE64 } from './kernelBytes.generated.js';
import type { KernelExports } from './kernelModule.js';
import { type WasmBackend, WasmApi } from './wasmBackend.js';

// The FMA micro-kernel (relaxed SIMD) against the plain one, which the conformance suite
// checks against tfjs-cpu. Same packing and blocking code, so edges are covered by both.

let backend: WasmBackend;
const instances: Record<'plain' | 'fma', KernelExports> = {} as never;

beforeAll(async () => {
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  await initBackend({ backend: 'wasm' });
  backend = tf.backend() as unknown as WasmBackend;
  for (const [name, base64] of [
    ['plain', KERNEL_WASM_BASE64],
    ['fma', KERNEL_WASM_FMA_BASE64],
  ] as const) {
    const module = new WasmApi.Module(Buffer.from(base64, 'base64'));
    instances[name] = new WasmApi.Instance(module, { env: { memory: backend.wasm.asm.memory } }).exports as unknown as KernelExports;
  }
});

describe('relaxed-SIMD FMA GEMM', () => {
  for (const [m, n, k, ta, tb] of [
    [37, 23, 19, false, false],
    [5, 9, 300, true, false],
    [64, 17, 33, false, true],
    [1, 1, 1, true, true],
  ] as [number, number, number, boolean, boolean][]) {
    it(`${m}×${k}·${k}×${n} (transposeA ${ta}, transposeB ${tb}) agrees with the plain kernel`, () => {
      const heap = backend.wasm;
      const [a, b, c1, c2, work] = [m * k * 4, k * n * 4, m * n * 4, m * n * 4, gemmWorkspaceBytes(n)].map((bytes) => heap._malloc(bytes) >>> 0) as number[];
      new Float32Array(heap.HEAPU8.buffer, a, m * k).set(seededFloats(m * k, 3));
      new Float32Array(heap.HEAPU8.buffer, b, k * n).set(seededFloats(k * n, 4));
      const [rsa, csa] = ta ? [4, m * 4] : [k * 4, 4];
      const [rsb, csb] = tb ? [4, k * 4] : [n * 4, 4];
      instances.plain.gemm(a!, rsa, csa, b!, rsb, csb, c1!, n * 4, m, n, k, work!);
      instances.fma.gemm(a!, rsa, csa, b!, rsb, csb, c2!, n * 4, m, n, k, work!);
      const plain = new Float32Array(heap.HEAPU8.buffer, c1, m * n).slice();
      const fused = new Float32Array(heap.HEAPU8.buffer, c2, m * n).slice();
      expect(toleranceRatio(fused, plain, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
      for (const p of [a, b, c1, c2, work]) heap._free(p!);
    });
  }
});
