import type { tf } from '@deepline/core';
import type { NativeAddon } from './addon.js';
import { matMulGeometry } from '@deepline/kernels-wasm';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (tensors live in one heap). */
export interface WasmHeapBackend {
  wasm: {
    asm?: { memory?: { buffer: ArrayBufferLike } };
    wasmMemory?: { buffer: ArrayBufferLike };
    HEAPU8: Uint8Array;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The heap's current buffer: read on every call because memory growth detaches the old one. */
export function heapBuffer(backend: WasmHeapBackend): ArrayBufferLike {
  return (
    backend.wasm.asm?.memory?.buffer ??
    backend.wasm.wasmMemory?.buffer ??
    backend.wasm.HEAPU8.buffer
  );
}

/** The heap as the addon takes it. */
export function heapOf(backend: WasmHeapBackend): ArrayBufferLike | ArrayBufferView {
  const buffer = heapBuffer(backend);
  // A threaded build's SharedArrayBuffer goes through a view (N-API takes typed arrays over either).
  return buffer instanceof ArrayBuffer ? buffer : new Uint8Array(buffer);
}

export function offsetOf(backend: WasmHeapBackend, info: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(info.dataId);
  if (!entry) throw new Error(`tensor ${String(info.dataId)} is not on the wasm backend`);
  return entry.memoryOffset >>> 0;
}

const params = new Float64Array(13);
let calls = 0;

/** How many BatchMatMul calls the native kernel has computed (tests check it really ran). */
export function nativeBatchMatMulCalls(): number {
  return calls;
}

/**
 * BatchMatMul for tfjs-wasm computed by the native GEMM in place on the wasm heap: operand
 * and output byte offsets come from the backend's dataIdMap, transposes are strides and batch
 * broadcasting is a per-entry offset table. `fallback` handles non-float32 inputs.
 */
export function nativeBatchMatMulKernel(
  addon: NativeAddon,
  fallback: tf.KernelFunc,
): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const g = matMulGeometry(a.shape, b.shape, transposeA, transposeB);
    // Allocate first: malloc may grow (and detach) the heap, so the buffer is read after it.
    const out = backend.makeOutput(g.outShape, 'float32');
    if (g.m * g.n * g.batches === 0) return out;
    params[0] = offsetOf(backend, a);
    params[1] = offsetOf(backend, b);
    params[2] = offsetOf(backend, out);
    params[3] = g.m;
    params[4] = g.n;
    params[5] = g.k;
    params[6] = g.rsa;
    params[7] = g.csa;
    params[8] = g.rsb;
    params[9] = g.csb;
    params[10] = g.n;
    params[11] = g.batches;
    params[12] = g.m * g.n;
    const heap = heapOf(backend);
    addon.gemm(heap, heap, heap, params, g.offsets);
    calls++;
    return out;
  };
}
