import { loadAddon } from '../addon.js';
import {
  type NativeIsa,
  nativeKernelsAvailable,
  setNativeIsa,
  setNativeThreads,
} from '../registerNativeKernels.js';

// Kernel-set and thread settings shared by the conformance tests.

/** Whether this CPU and build run `isa` ('auto' always). */
export function supportsIsa(isa: NativeIsa): boolean {
  return isa === 'auto' || (nativeKernelsAvailable().supportedIsas ?? []).includes(isa);
}

/**
 * Selects a kernel set and thread count; with two or more threads even small products are
 * split, so the tiling across threads is exercised.
 */
export function useNativeConfig(isa: NativeIsa, threads: number): void {
  setNativeIsa(isa);
  setNativeThreads(threads);
  loadAddon().addon!.setParallelMinFlops(threads > 1 ? 0 : 4e6);
}

/** Back to the defaults: the best kernel set, products split across threads from 4 MFLOP. */
export function restoreNativeDefaults(): void {
  setNativeIsa('auto');
  loadAddon().addon!.setParallelMinFlops(4e6);
}
