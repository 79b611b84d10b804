import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written and prints what its comments say', () => {
    const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)) });
    expect(out).toContain('[ 15339, 1917 ] hello world');
    expect(out).toContain('<｜begin▁of▁sentence｜><｜User｜>Hi fox<｜Assistant｜> true');
    expect(out.trim().split('\n').pop()).toBe('fox 😀');
  });
});
