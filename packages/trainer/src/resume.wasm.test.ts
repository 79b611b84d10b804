import { initBackend } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { resumeScenario } from './testing/resumeScenario.js';

describe('resume on the wasm backend', () => {
  it('continues the same loss trajectory within float tolerance', async () => {
    await initBackend({ backend: 'wasm' });
    const dir = await makeTempDir('trainer-resume-wasm-');
    try {
      const r = await resumeScenario(dir);
      r.resumed.forEach((loss, i) => {
        expect(Math.abs(loss - r.full[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(r.full[i]!)));
      });
      for (const [name, values] of r.fullWeights) {
        const got = r.resumedWeights.get(name)!;
        values.forEach((v, i) => {
          expect(Math.abs(got[i]! - v)).toBeLessThan(1e-5);
        });
      }
    } finally {
      await removeDir(dir);
    }
  });
});
