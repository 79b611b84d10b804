import v8 from 'node:v8';
import { KERNEL_WASM_BASE64, KERNEL_WASM_FMA_BASE64 } from './kernelBytes.generated.js';
import { type WasmBackend, WasmApi } from './wasmBackend.js';

/** Exports of the kernel module; every pointer is a byte offset in tfjs-wasm's heap. */
export interface KernelExports {
  gemm(a: number, rsa: number, csa: number, b: number, rsb: number, csb: number, c: number, ldc: number, m: number, n: number, k: number, work: number): void;
  gemmInt8(a: number, rsa: number, csa: number, q: number, scales: number, c: number, ldc: number, m: number, n: number, k: number, work: number): void;
  gemmInt4(
    a: number,
    rsa: number,
    csa: number,
    q: number,
    scales: number,
    zeros: number,
    group: number,
    c: number,
    ldc: number,
    m: number,
    n: number,
    k: number,
    work: number,
  ): void;
  gemvInt8(x: number, q: number, scales: number, y: number, m: number, n: number, k: number, work: number): void;
  gemvInt4(x: number, q: number, scales: number, zeros: number, group: number, y: number, m: number, n: number, k: number, work: number): void;
  dequantInt8(q: number, scales: number, out: number, n: number, k: number): void;
  dequantInt4(q: number, scales: number, zeros: number, group: number, out: number, n: number, k: number): void;
  [name: string]: (...args: number[]) => unknown;
}

/** The kernel module bound to one backend's heap, plus a reusable scratch buffer. */
export interface KernelInstance {
  exports: KernelExports;
  /** Returns a heap pointer to at least `bytes` of scratch (grown on demand, never shrunk). */
  workspace(bytes: number): number;
  /** Frees the scratch buffer (backend disposal / unregister). */
  release(): void;
}

let compiled: object | undefined;
const instances = new WeakMap<WasmBackend, KernelInstance>();

/**
 * True when this runtime accepts relaxed SIMD (Node ≥ 22, or Node 20 started with
 * --experimental-wasm-relaxed-simd): the GEMM then uses fused multiply-add.
 */
export function relaxedSimdSupported(): boolean {
  return WasmApi.validate(Buffer.from(KERNEL_WASM_FMA_BASE64, 'base64'));
}

/**
 * How the GEMM picks its micro-kernel: 'auto' uses fused multiply-add where the runtime
 * already validates relaxed SIMD; 'enable' also turns V8's relaxed-SIMD flag on at run time
 * on runtimes that ship it behind a flag (Node 20; ~20–25% faster GEMM here); 'off' never.
 */
export type RelaxedSimdMode = 'auto' | 'enable' | 'off';

let relaxedMode: RelaxedSimdMode = 'auto';

/** Sets the relaxed-SIMD mode; takes effect if no kernel instance was created yet. */
export function setRelaxedSimdMode(mode: RelaxedSimdMode): void {
  if (compiled === undefined) relaxedMode = mode;
}

/** Whether the kernel module in use (or about to be) has the FMA micro-kernel. */
export function usesFma(): boolean {
  kernelModule();
  return compiledFma;
}

let compiledFma = false;

function kernelModule(): object {
  if (compiled === undefined) {
    // V8 reads wasm feature flags when it compiles a module, so setting this one before the
    // first compile is effective (Node 22+ has relaxed SIMD on by default).
    if (relaxedMode === 'enable' && !relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    compiledFma = relaxedMode !== 'off' && relaxedSimdSupported();
    compiled = new WasmApi.Module(Buffer.from(compiledFma ? KERNEL_WASM_FMA_BASE64 : KERNEL_WASM_BASE64, 'base64'));
  }
  return compiled;
}

/** Instantiates (once per backend) the kernel module on `backend`'s heap memory. */
export function kernelInstance(backend: WasmBackend): KernelInstance {
  const existing = instances.get(backend);
  if (existing) return existing;
  const memory = backend.wasm.asm.memory;
  const instance = new WasmApi.Instance(kernelModule(), { env: { memory } });
  let pointer = 0;
  let size = 0;
  const created: KernelInstance = {
    exports: instance.exports as unknown as KernelExports,
    workspace(bytes) {
      if (bytes <= size) return pointer;
      if (pointer) backend.wasm._free(pointer);
      size = Math.max(bytes, size * 2, 1 << 16);
      pointer = backend.wasm._malloc(size) >>> 0;
      if (!pointer) throw new Error(`wasm heap: cannot allocate ${size} bytes of kernel workspace`);
      return pointer;
    },
    release() {
      if (pointer) backend.wasm._free(pointer);
      pointer = 0;
      size = 0;
    },
  };
  instances.set(backend, created);
  return created;
}
