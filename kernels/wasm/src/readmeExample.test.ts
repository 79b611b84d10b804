import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { expect, it } from 'vitest';

it('the README example runs and prints the hand-computed int4 result', () => {
  const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)) });
  expect(out).toContain('attention grad shape 2x16x4x8');
  expect(out).toContain('int4 matmul 14,0');
});
