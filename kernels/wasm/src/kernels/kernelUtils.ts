import type { tf } from '@deepline/core';
import { type KernelInstance, kernelInstance } from '../wasm/kernelModule.js';
import { type WasmBackend, heapOffset } from '../wasm/wasmBackend.js';

/** What a wasm kernel function receives from tfjs. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The backend, its kernel module instance, and a heap-offset reader for tensors. */
export function wasmContext(args: KernelArgs): { backend: WasmBackend; instance: KernelInstance; ptr: (t: tf.TensorInfo) => number } {
  const backend = args.backend as WasmBackend;
  return { backend, instance: kernelInstance(backend), ptr: (t) => heapOffset(backend, t) };
}

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Rounds a byte count up to 16 so SIMD scratch regions stay aligned. */
export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
