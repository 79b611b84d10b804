import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('trains, checkpoints and resumes onto the same loss', () => {
    const out = runReadmeExample({ packageDir: fileURLToPath(new URL('..', import.meta.url)) });
    expect(out).toContain('step 4 same loss after resume: true');
    const load = JSON.parse(
      out.match(/expert load of MoE layer 1: (\[[^\]]*\])/)![1]!.replace(/\s+/g, ''),
    );
    // 2 micro-batches × 4 sequences × 16 positions × top-2 assignments.
    expect(load.reduce((a: number, b: number) => a + b, 0)).toBe(2 * 4 * 16 * 2);
  }, 120_000);
});
