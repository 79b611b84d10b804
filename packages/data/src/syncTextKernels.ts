import { textKernelProvider } from '@deepline/core';
import { useTextKernels } from './textKernels.js';

/** Takes up the text kernels registered in @deepline/core (or drops them when none are). */
export function syncTextKernels(): void {
  useTextKernels(textKernelProvider());
}
