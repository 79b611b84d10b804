import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written', () => {
    const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)), env: { DEEPLINE_BACKEND: '' } });
    expect(out).toContain('running on wasm');
    expect(out).toContain('[ 4, 3 ] [ 2, 3 ]');
  });
});
