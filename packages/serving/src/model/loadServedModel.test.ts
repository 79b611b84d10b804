import { initBackend } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { loadQuantizedModel, quantizeModel, saveQuantizedModel } from '@deepline/quantizer';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServingError } from '../errors.js';
import { Engine } from '../engine/engine.js';
import { resolveSamplingParams } from '../sampling/sampler.js';
import { writeTinyModelDir } from '../testing/fixtureModelDir.js';
import { referenceGreedy } from '../testing/tinyModel.js';
import { loadServedModel } from './loadServedModel.js';
import { copyFile } from 'node:fs/promises';

describe('loadServedModel', () => {
  let dir: string;
  let qdir: string;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    dir = await makeTempDir('deepline-load-');
    qdir = await makeTempDir('deepline-load-q-');
    await writeTinyModelDir(dir);
    const model = await DeepseekModel.load(dir);
    quantizeModel({ model, scheme: 'int8' });
    await saveQuantizedModel({ model, dir: qdir });
    model.dispose();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(`${dir}/${f}`, `${qdir}/${f}`);
  });
  afterAll(async () => {
    await removeDir(dir);
    await removeDir(qdir);
  });

  it('serves a quantized directory with the same greedy output as the quantized library model', async () => {
    const served = await loadServedModel({ dir: qdir, name: 'q' });
    const reference = await loadQuantizedModel(qdir);
    try {
      const engine = new Engine({ model: served.model, decode: served.tokenizer.decode });
      const prompt = served.tokenizer.encode('the quick brown fox');
      const r = await engine.complete({ promptTokens: prompt, maxTokens: 8, sampling: resolveSamplingParams({ temperature: 0 }) });
      expect(r.tokens).toEqual(referenceGreedy(reference, prompt, 8));
      expect(served.name).toBe('q');
    } finally {
      served.dispose?.();
      reference.dispose();
    }
  });

  it('names the missing file of an incomplete directory', async () => {
    const empty = await makeTempDir('deepline-load-empty-');
    await expect(loadServedModel({ dir: empty })).rejects.toThrow(ServingError);
    await expect(loadServedModel({ dir: empty })).rejects.toThrow(/config\.json/);
    await removeDir(empty);
  });
});
