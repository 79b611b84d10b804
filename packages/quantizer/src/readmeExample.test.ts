import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written', () => {
    const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)) });
    // Codes [0, 12, 6, 8, 0, 12, 10, 7] → bytes lo | hi << 4; dequantization is exact here.
    expect(out).toContain('packed [ 192, 134, 192, 122 ] scales [ -0.5, 1 ]');
    expect(out.replace(/\s+/g, ' ')).toContain('back [ 4, -2, 1, 0, -8, 4, 2, -1 ]');
    expect(out).toContain('low nibble first [ 33 ]');
    expect(out).toMatch(/quantized (\d+), packed layers \1, kept 1/);
    expect(out).toContain('logits [ 1, 3, 512 ]');
  });
});
