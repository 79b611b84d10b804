import { createRequire } from 'node:module';
import type { TextKernelContracts, TextKernelProvider } from '@deepline/core';

// The text kernels this thread uses: a kernel package's (native, say) when one is registered
// in @deepline/core, else none and the JavaScript loops run. Results are the same either way.
// Free of @deepline/core at run time (type imports only), so worker threads stay light.

const KERNEL_NAMES = [
  'scanWordsLatin1',
  'dedupHashesLatin1',
  'gopherNgrams',
  'minhashSignature',
  'duplicatePiecesLatin1',
  'fastTextCreate',
  'fastTextHidden',
] as const;

/** The kernels in use on this thread; the hot loops read it on every call. */
export const activeTextKernels: Partial<TextKernelContracts> = {};
let activeModule: string | undefined;
let activeSet: Partial<TextKernelContracts> | undefined;

/** Uses `provider`'s kernels on this thread from now on (undefined: the JavaScript loops). */
export function useTextKernels(
  provider: Pick<TextKernelProvider, 'module' | 'kernels'> | undefined,
): void {
  // The same set again (each synchronisation asks): nothing to do.
  if (provider?.kernels === activeSet && provider?.module === activeModule) return;
  activeSet = provider?.kernels;
  for (const name of KERNEL_NAMES) {
    const kernel = provider?.kernels[name];
    if (typeof kernel === 'function') (activeTextKernels as Record<string, unknown>)[name] = kernel;
    else delete activeTextKernels[name];
  }
  activeModule = provider?.module;
}

/** The module the active kernels came from, for worker threads to load them too. */
export function activeTextKernelModule(): string | undefined {
  return activeModule;
}

/**
 * Loads text kernels from a module path (in a worker thread, the path the main thread's
 * provider gave). Returns false, leaving the JavaScript loops in place, when it cannot.
 */
export function loadTextKernels(module: string): boolean {
  try {
    const kernels = createRequire(import.meta.url)(module) as Partial<TextKernelContracts>;
    useTextKernels({ module, kernels });
    return true;
  } catch {
    useTextKernels(undefined);
    return false;
  }
}
