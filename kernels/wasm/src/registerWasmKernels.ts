import { type KernelPack, registerKernelPack, type tf, unregisterKernelPack } from '@deepline/core';
import { batchMatMulKernel } from './kernels/batchMatMul.js';
import { dispatchKernelConfigs } from './kernels/dispatchKernels.js';
import { fusedKernelConfigs } from './kernels/fusedKernels.js';
import { quantKernelConfigs } from './kernels/quantKernels.js';
import { type RelaxedSimdMode, kernelInstance, setRelaxedSimdMode } from './wasm/kernelModule.js';
import type { WasmBackend } from './wasm/wasmBackend.js';

/** Name of the kernel pack in core's registry. */
export const WASM_KERNEL_PACK = '@deepline/kernels-wasm';

/** The pack: the GEMM-backed BatchMatMul, dispatch overrides, fused and quantized kernels. */
export function wasmKernelPack(): KernelPack {
  const kernels: tf.KernelConfig[] = [
    { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMulKernel as unknown as tf.KernelFunc },
    ...dispatchKernelConfigs(),
    ...fusedKernelConfigs(),
    ...quantKernelConfigs(),
  ];
  return {
    name: WASM_KERNEL_PACK,
    backend: 'wasm',
    kernels,
    // Instantiating up front surfaces a missing heap export at registration, not mid-step.
    setup: ({ backend }) => void kernelInstance(backend as WasmBackend),
  };
}

let registered = false;

/** Options of {@link registerWasmKernels}. */
export interface RegisterWasmKernelsOptions {
  /**
   * Fused multiply-add GEMM through relaxed SIMD: 'auto' (default) where the runtime
   * validates it without flags; 'enable' also switches V8's flag on under Node 20; 'off'.
   * Decided once, when the kernel module is first compiled.
   */
  relaxedSimd?: RelaxedSimdMode;
}

/**
 * Registers deepline's wasm kernels into core's registry. They are applied at once if the
 * wasm backend is active, otherwise when `initBackend({backend: 'wasm'})` selects it.
 * Idempotent.
 */
export async function registerWasmKernels(options: RegisterWasmKernelsOptions = {}): Promise<void> {
  if (options.relaxedSimd) setRelaxedSimdMode(options.relaxedSimd);
  if (registered) return;
  await registerKernelPack(wasmKernelPack());
  registered = true;
}

/** Removes the kernels again, restoring tfjs-wasm's stock ones (benchmarks: with vs without). */
export async function unregisterWasmKernels(): Promise<void> {
  await unregisterKernelPack(WASM_KERNEL_PACK);
  registered = false;
}
