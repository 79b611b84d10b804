import { initBackend } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { resumeScenario } from './testing/resumeScenario.js';

describe('exact resume on the cpu backend', () => {
  it('continues bit-for-bit the same loss trajectory and weights', async () => {
    await initBackend({ backend: 'cpu' });
    const dir = await makeTempDir('trainer-resume-');
    try {
      const r = await resumeScenario(dir);
      expect(r.resumedStep).toBe(6);
      expect(r.resumed).toEqual(r.full);
      expect(r.resumedWeights).toEqual(r.fullWeights);
      // The gate bias moved during training and was restored with the rest.
      expect(
        r.fullWeights.get('model.layers.0.mlp.gate.e_score_correction_bias')!.some((b) => b !== 0),
      ).toBe(true);
    } finally {
      await removeDir(dir);
    }
  });
});
