import type { tf } from '@deepline/core';
import type { NativeAddon } from './addon.js';
import { heapOf, offsetOf, type WasmHeapBackend } from './nativeBatchMatMul.js';

/**
 * Kernel name of `A·B` where B is a constant weight (`a` `[rows, k]`, `b` `[k, n]`, both
 * float32): B is packed for the GEMM once, on first use, and reused while its tensor lives,
 * instead of being re-packed on every call. Callers promise B's values never change; check
 * `tf.getKernel(CONSTANT_MATMUL_KERNEL, backend)` and use `tf.matMul` where it is absent.
 */
export const CONSTANT_MATMUL_KERNEL = 'DeeplineConstantMatMul';

const packParams = new Float64Array(5);
const params = new Float64Array(6);
let packs = 0;

/** How many weights the constant matmul kernel has packed (tests check the cache is used). */
export function nativeConstantPacks(): number {
  return packs;
}

/**
 * The kernel for tfjs-wasm. Packed copies are keyed by B's data id (weakly: they go with the
 * tensor's data) and by kernel set, since the packed layout is the kernel set's own.
 * `fallback` (BatchMatMul) takes inputs that are not 2-D float32.
 */
export function nativeConstantMatMulKernel(addon: NativeAddon, fallback: tf.KernelFunc): tf.KernelFunc {
  const cache = new WeakMap<object, { isa: string; packed: ArrayBuffer }>();
  return (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const [rows, k] = a.shape;
    const [kb, n] = b.shape;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 2 || b.shape.length !== 2 || k !== kb) {
      return fallback({ ...args, attrs: { transposeA: false, transposeB: false } });
    }
    const isa = addon.isa();
    let entry = cache.get(b.dataId);
    if (!entry || entry.isa !== isa) {
      packParams[0] = offsetOf(backend, b);
      packParams[1] = k!;
      packParams[2] = n!;
      packParams[3] = n!;
      packParams[4] = 1;
      entry = { isa, packed: addon.packB(heapOf(backend), packParams) };
      cache.set(b.dataId, entry);
      packs++;
    }
    // Allocate first: malloc may grow (and detach) the heap, so the buffer is read after it.
    const out = backend.makeOutput([rows!, n!], 'float32');
    if (rows! * n! === 0) return out;
    params[0] = offsetOf(backend, a);
    params[1] = offsetOf(backend, out);
    params[2] = rows!;
    params[3] = k!;
    params[4] = 1;
    params[5] = n!;
    addon.gemmPacked(heapOf(backend), entry.packed, params);
    return out;
  };
}
