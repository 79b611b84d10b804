import type { TextKernelContracts } from '@deepline/core';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The functions the compiled addon (native/addon.cc) exports. */
export interface NativeAddon {
  /**
   * C = A·B over caller-owned memory. `params` (Float64Array of 13): byte offsets of A, B, C;
   * m, n, k; element strides rsa, csa, rsb, csb; ldc; batches; C's batch stride. `offsets`
   * (Int32Array, 2 per batch entry): element offsets of A and B relative to the first entry.
   */
  gemm(
    a: ArrayBufferLike | ArrayBufferView,
    b: ArrayBufferLike | ArrayBufferView,
    c: ArrayBufferLike | ArrayBufferView,
    params: Float64Array,
    offsets?: Int32Array,
  ): void;
  /**
   * Packs B once for the active kernel set. `params` (Float64Array of 5): B's byte offset,
   * k, n, element strides rsb, csb. Returns the packed copy (its layout is the kernel set's).
   */
  packB(b: ArrayBufferLike | ArrayBufferView, params: Float64Array): ArrayBuffer;
  /**
   * C = A·B with B from packB (same kernel set). `params` (Float64Array of 6): byte offsets of
   * A and C in `heap`; m; A's element strides rsa, csa; ldc.
   */
  gemmPacked(
    heap: ArrayBufferLike | ArrayBufferView,
    packed: ArrayBuffer,
    params: Float64Array,
  ): void;
  setThreads(threads: number): void;
  threads(): number;
  setSpinMicroseconds(us: number): void;
  setParallelMinFlops(flops: number): void;
  setIsa(isa: string): boolean;
  isa(): string;
  supportedIsas(): string;
  /** params: byte offsets of q, k, v, out, probs; batch, tq, tk, heads, dim, scale, causal (0/1). */
  attentionForward(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** params: byte offsets of q, k, v, probs, dy, dq, dk, dv; batch, tq, tk, heads, dim, scale. */
  attentionBackward(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** params: byte offsets of logits, labels (int32), probs, loss; rows, vocab. Returns the first row with a bad label, or -1. */
  crossEntropyForward(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): number;
  /** params: byte offsets of value, grad, m, v, value', m', v'; count; lr, beta1, beta2, epsilon, c1, c2. */
  adamStep(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** params: byte offsets of x, weight, y, rstd; rows, dim, eps. */
  rmsNormForward(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** params: byte offsets of x, weight, rstd, dy, dx, dweight; rows, dim. */
  rmsNormBackward(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** params: byte offsets of gate, up, y; element count. */
  siluMul(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** params: byte offsets of gate, up, dy, dgate, dup; element count. */
  siluMulBackward(heap: ArrayBufferLike | ArrayBufferView, params: Float64Array): void;
  /** The text kernels of @deepline/core's TextKernelContracts (native/text.cc). */
  scanWordsLatin1: TextKernelContracts['scanWordsLatin1'];
  dedupHashesLatin1: TextKernelContracts['dedupHashesLatin1'];
  gopherNgrams: TextKernelContracts['gopherNgrams'];
  minhashSignature: TextKernelContracts['minhashSignature'];
  duplicatePiecesLatin1: TextKernelContracts['duplicatePiecesLatin1'];
  fastTextCreate: TextKernelContracts['fastTextCreate'];
  fastTextHidden: TextKernelContracts['fastTextHidden'];
}

/** Whether the addon loaded, and why not when it did not. */
export interface AddonLoad {
  addon?: NativeAddon;
  reason: string;
}

/** Package root: src/ (tests, the source condition) and dist/ (the build) both sit one level below. */
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where node-gyp puts the addon, and where the install script records why it did not. */
export const addonPath = `${packageRoot}build/Release/deepline_native.node`;
export const buildStatusPath = `${packageRoot}build/deepline-native-status.json`;

let cached: AddonLoad | undefined;

function buildStatusReason(): string | undefined {
  try {
    const status = JSON.parse(readFileSync(buildStatusPath, 'utf8')) as {
      built?: boolean;
      reason?: string;
    };
    return status.built ? undefined : status.reason;
  } catch {
    return undefined;
  }
}

/**
 * Loads the addon once. Never throws: a missing or broken build (no compiler at install
 * time, another platform, `DEEPLINE_NATIVE=off`) comes back as a reason instead.
 */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  if (process.env.DEEPLINE_NATIVE === 'off' || process.env.DEEPLINE_NATIVE === '0') {
    cached = { reason: 'disabled by DEEPLINE_NATIVE=off' };
  } else if (!existsSync(addonPath)) {
    const why = buildStatusReason();
    cached = {
      reason: why
        ? `not built: ${why}`
        : 'not built (run `pnpm --filter @deepline/kernels-native run build:native`)',
    };
  } else {
    try {
      const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
      cached = { addon, reason: `loaded (${addon.isa()} kernels)` };
    } catch (error) {
      cached = { reason: `failed to load: ${(error as Error).message.split('\n')[0]}` };
    }
  }
  return cached;
}

/** Forgets the cached load result (tests that build the addon on demand). */
export function resetAddonCache(): void {
  cached = undefined;
}
