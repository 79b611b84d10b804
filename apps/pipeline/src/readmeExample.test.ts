import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written', () => {
    const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)), env: { DEEPLINE_LOG_LEVEL: 'warn' } });
    expect(out).toMatch(/kept documents: 1[0-2]\n/);
    expect(out).toContain('vocab: 384');
  });
});
