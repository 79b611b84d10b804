import { availableParallelism } from 'node:os';
import { type KernelPack, registerKernelPack, tf, unregisterKernelPack } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { loadAddon } from './addon.js';
import { NativeKernelsError } from './errors.js';
import { nativeBatchMatMulKernel } from './nativeBatchMatMul.js';
import { CONSTANT_MATMUL_KERNEL, nativeConstantMatMulKernel } from './nativeConstantMatMul.js';
import { nativeFusedKernels } from './nativeFusedKernels.js';

/** Name of the pack in core's kernel registry. */
export const NATIVE_KERNEL_PACK = '@deepline/kernels-native';

/** Instruction sets of the native GEMM; 'auto' picks the best the CPU runs. */
export type NativeIsa = 'auto' | 'avx512' | 'avx2' | 'generic';

/** Whether the native kernels can be used on this machine. */
export interface NativeKernelsStatus {
  available: boolean;
  /** Why not (no compiler at install time, disabled, load error), or what was loaded. */
  reason: string;
  /** Kernel set in use ('avx512', 'avx2', 'generic') when available. */
  isa?: string;
  /** Kernel sets this CPU and build support, best first. */
  supportedIsas?: string[];
  /** GEMM threads (the calling thread included). */
  threads?: number;
}

/** Options of {@link registerNativeKernels}. */
export interface RegisterNativeKernelsOptions {
  /** GEMM threads, the calling thread included. Default: `os.availableParallelism()`. */
  threads?: number;
  /**
   * Kernel set; default `process.env.DEEPLINE_NATIVE_ISA` or 'auto'. Forcing 'avx2' on an
   * AVX-512 CPU tests (or benchmarks) the other path; an ISA the CPU lacks is an error.
   */
  isa?: NativeIsa;
  /**
   * Register @deepline/kernels-wasm's pack first (default true) so the native BatchMatMul
   * sits on top of it and the wasm fused ops (attention, RMSNorm, …) are in place.
   */
  wasmKernels?: boolean;
  /**
   * Also take over the wasm pack's fused kernels with native ones: attention (threaded over
   * heads, GEMM-based), SwiGLU, cross-entropy, RMSNorm and Adam. Default: `wasmKernels`.
   */
  fusedOps?: boolean;
}

const ISAS: readonly NativeIsa[] = ['auto', 'avx512', 'avx2', 'generic'];

/** Reports whether the addon is built and loadable here, and why not when it is not. */
export function nativeKernelsAvailable(): NativeKernelsStatus {
  const { addon, reason } = loadAddon();
  if (!addon) return { available: false, reason };
  return {
    available: true,
    reason,
    isa: addon.isa(),
    supportedIsas: addon.supportedIsas().split(','),
    threads: addon.threads(),
  };
}

function requireAddon(op: string) {
  const { addon, reason } = loadAddon();
  if (!addon)
    throw new NativeKernelsError(`native kernels unavailable: ${reason}`, {
      code: 'NATIVE_UNAVAILABLE',
      context: { op },
    });
  return addon;
}

/** Sets the GEMM thread count (>= 1, the calling thread included). Throws when the addon is unavailable. */
export function setNativeThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new NativeKernelsError(`threads must be an integer from 1 to 256, got ${threads}`, {
      code: 'BAD_OPTION',
      context: { op: 'setNativeThreads', field: 'threads' },
    });
  }
  requireAddon('setNativeThreads').setThreads(threads);
}

/** Selects the kernel set. Throws for an unknown name or one this CPU cannot run. */
export function setNativeIsa(isa: NativeIsa): void {
  if (!ISAS.includes(isa)) {
    throw new NativeKernelsError(`isa must be one of ${ISAS.join(', ')}, got '${isa}'`, {
      code: 'BAD_OPTION',
      context: { op: 'setNativeIsa', field: 'isa' },
    });
  }
  const addon = requireAddon('setNativeIsa');
  if (!addon.setIsa(isa)) {
    throw new NativeKernelsError(
      `this CPU (or build) cannot run the '${isa}' kernels; supported: ${addon.supportedIsas()}`,
      {
        code: 'ISA_UNSUPPORTED',
        context: { op: 'setNativeIsa', field: 'isa' },
      },
    );
  }
}

/**
 * The pack: tfjs-wasm's BatchMatMul computed by the native GEMM on the wasm heap, plus (with
 * `fusedOps`) native attention and SwiGLU kernels under the wasm pack's kernel names.
 */
export function nativeKernelPack(options: { fusedOps?: boolean } = {}): KernelPack {
  const addon = requireAddon('nativeKernelPack');
  // The kernels in place when the pack is applied (normally the wasm pack's), for the calls
  // the native ones do not take (non-float32 matmuls, empty tensors).
  const previous = new Map<string, tf.KernelFunc>();
  const fallback = (kernelName: string): tf.KernelFunc => {
    const func = previous.get(kernelName);
    if (!func) {
      throw new NativeKernelsError(`no ${kernelName} kernel to fall back to`, {
        code: 'NO_FALLBACK',
        context: { op: kernelName },
      });
    }
    return func;
  };
  const batchMatMul = nativeBatchMatMulKernel(addon, (args) => fallback('BatchMatMul')(args));
  const kernels: tf.KernelConfig[] = [
    { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul },
    {
      kernelName: CONSTANT_MATMUL_KERNEL,
      backendName: 'wasm',
      kernelFunc: nativeConstantMatMulKernel(addon, batchMatMul),
    },
    ...(options.fusedOps === false ? [] : nativeFusedKernels(addon, fallback)),
  ];
  return {
    name: NATIVE_KERNEL_PACK,
    backend: 'wasm',
    kernels,
    setup: () => {
      for (const { kernelName } of kernels) {
        const existing = tf.getKernel(kernelName, 'wasm')?.kernelFunc;
        if (existing) previous.set(kernelName, existing);
      }
    },
  };
}

/**
 * Registers the native GEMM as tfjs-wasm's BatchMatMul in core's kernel registry, on top of
 * @deepline/kernels-wasm's pack (registered first unless `wasmKernels: false`). Applied at once
 * when wasm is active, otherwise when `initBackend` selects it. Where the addon is not
 * available it registers nothing and returns the reason, so callers can always call it.
 */
export async function registerNativeKernels(
  options: RegisterNativeKernelsOptions = {},
): Promise<NativeKernelsStatus> {
  const status = nativeKernelsAvailable();
  if (!status.available) return status;
  const isa = options.isa ?? (process.env.DEEPLINE_NATIVE_ISA as NativeIsa | undefined) ?? 'auto';
  setNativeIsa(isa);
  setNativeThreads(options.threads ?? availableParallelism());
  if (options.wasmKernels !== false) await registerWasmKernels();
  // The fused kernels replace the wasm pack's, so they come with it unless asked for.
  await registerKernelPack(
    nativeKernelPack({ fusedOps: options.fusedOps ?? options.wasmKernels !== false }),
  );
  return nativeKernelsAvailable();
}

/** Removes the native pack, restoring the BatchMatMul it replaced (the wasm pack's, or stock). */
export async function unregisterNativeKernels(): Promise<void> {
  await unregisterKernelPack(NATIVE_KERNEL_PACK);
}
