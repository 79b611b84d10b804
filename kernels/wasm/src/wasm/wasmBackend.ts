import type { tf } from '@deepline/core';

/**
 * The parts of tfjs-backend-wasm's BackendWasm the kernels use. Tensors live in one
 * Emscripten heap; `dataIdMap` gives each tensor's byte offset in it.
 */
export interface WasmBackend extends tf.KernelBackend {
  wasm: {
    asm: { memory: WasmMemory };
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** A WebAssembly.Memory (typed locally: the repo's TS lib set has no WebAssembly DOM types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** The slice of the WebAssembly JS API the package uses. */
export const WasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      validate(bytes: Uint8Array): boolean;
      Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

/** Byte offset of a tensor in the wasm heap. */
export function heapOffset(backend: WasmBackend, info: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(info.dataId);
  if (!entry) throw new Error(`tensor ${String(info.dataId)} is not on the wasm backend`);
  return entry.memoryOffset >>> 0;
}
