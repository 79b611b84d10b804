import { runReadmeExample } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs: SOTU → clean + dedup → shards → loader, resuming exactly', () => {
    const out = runReadmeExample({ packageDir: new URL('..', import.meta.url).pathname });
    expect(out).toMatch(/read 8 file\(s\)/);
    expect(out).toMatch(/sequence length 1025 resume exact true/);
    const tokens = Number(/train tokens (\d+)/.exec(out)?.[1]);
    expect(tokens).toBeGreaterThan(50_000);
  }, 120_000);
});
