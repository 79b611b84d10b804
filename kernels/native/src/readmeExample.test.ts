import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { expect, it } from 'vitest';
import { nativeKernelsAvailable } from './registerNativeKernels.js';

it('the README example runs and prints the hand-computed products', () => {
  const out = runReadmeExample({
    packageDir: fileURLToPath(new URL('..', import.meta.url)),
    env: { DEEPLINE_BACKEND: '' },
  });
  const status = nativeKernelsAvailable();
  expect(out).toContain(
    status.available ? `native GEMM: ${status.isa} kernels` : 'wasm kernels only (',
  );
  expect(out).toContain('product 4,5,10,11');
  expect(out).toContain('aᵀ·a 17,22,27,22,29,36,27,36,45');
});
