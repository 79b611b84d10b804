import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs as written', () => {
    const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)) });
    expect(out.trim()).toBe('200 text_completion true');
  });
});
