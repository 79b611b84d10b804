import { type FusedOpName, type KernelPack, registerFusedOp, registerKernelPack, type tf, unregisterFusedOp, unregisterKernelPack } from '@deepline/core';
import { batchMatMulKernel } from './kernels/batchMatMul.js';
import { dispatchKernelConfigs } from './kernels/dispatchKernels.js';
import { fusedKernelConfigs } from './kernels/fusedKernels.js';
import { quantKernelConfigs } from './kernels/quantKernels.js';
import { attention } from './ops/attention.js';
import { crossEntropy } from './ops/crossEntropy.js';
import { rmsNorm } from './ops/rmsNorm.js';
import { siluMul } from './ops/siluMul.js';
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

/** Fused ops offered to models through core's fused-op registry (see `fusedOp` in core). */
export const WASM_FUSED_OPS: readonly FusedOpName[] = ['rmsNorm', 'siluMul', 'attention', 'crossEntropy'];

function registerFusedOps(): void {
  registerFusedOp('rmsNorm', 'wasm', rmsNorm);
  registerFusedOp('siluMul', 'wasm', siluMul);
  registerFusedOp('attention', 'wasm', attention);
  registerFusedOp('crossEntropy', 'wasm', crossEntropy);
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
 * wasm backend is active, otherwise when `initBackend({backend: 'wasm'})` selects it. Also
 * registers the fused ops {@link WASM_FUSED_OPS} for backend 'wasm' in core's fused-op
 * registry, so models built on core (e.g. @deepline/layers) use them. Idempotent.
 */
export async function registerWasmKernels(options: RegisterWasmKernelsOptions = {}): Promise<void> {
  if (options.relaxedSimd) setRelaxedSimdMode(options.relaxedSimd);
  if (registered) return;
  await registerKernelPack(wasmKernelPack());
  registerFusedOps();
  registered = true;
}

/** Removes the kernels again, restoring tfjs-wasm's stock ones (benchmarks: with vs without). */
export async function unregisterWasmKernels(): Promise<void> {
  await unregisterKernelPack(WASM_KERNEL_PACK);
  for (const name of WASM_FUSED_OPS) unregisterFusedOp(name, 'wasm');
  registered = false;
}
