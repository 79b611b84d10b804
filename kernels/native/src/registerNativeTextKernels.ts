import { registerTextKernels, unregisterTextKernels } from '@deepline/core';
import { addonPath, loadAddon } from './addon.js';
import { NATIVE_KERNEL_PACK } from './registerNativeKernels.js';

/**
 * Registers the addon's text kernels (word scan, dedup word hashes, Gopher duplicate lines and n-gram rules, MinHash signatures,
 * fastText language ID's input side) in
 * @deepline/core, where @deepline/data's cleaning chain picks them up, in its worker threads
 * too (they load the addon by path). Results are identical to the JavaScript loops. Returns
 * false, registering nothing, when the addon is unavailable (see {@link nativeKernelsAvailable}).
 */
export function registerNativeTextKernels(): boolean {
  const { addon } = loadAddon();
  if (!addon) return false;
  registerTextKernels({
    name: NATIVE_KERNEL_PACK,
    module: addonPath,
    kernels: {
      scanWordsLatin1: addon.scanWordsLatin1,
      dedupHashesLatin1: addon.dedupHashesLatin1,
      gopherNgrams: addon.gopherNgrams,
      minhashSignature: addon.minhashSignature,
      duplicatePiecesLatin1: addon.duplicatePiecesLatin1,
      fastTextCreate: addon.fastTextCreate,
      fastTextHidden: addon.fastTextHidden,
    },
  });
  return true;
}

/** Removes the native text kernels from @deepline/core's registry (if they are registered). */
export function unregisterNativeTextKernels(): void {
  unregisterTextKernels(NATIVE_KERNEL_PACK);
}
