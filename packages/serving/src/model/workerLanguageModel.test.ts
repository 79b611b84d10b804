import { initBackend } from '@deepline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { resolveSamplingParams } from '../sampling/sampler.js';
import { referenceGreedy, tinyDeepseek } from '../testing/tinyModel.js';
import { DeepseekLanguageModel } from './deepseekLanguageModel.js';
import { WorkerLanguageModel } from './workerLanguageModel.js';

describe('WorkerLanguageModel', () => {
  let worker: WorkerLanguageModel;
  let model: ReturnType<typeof tinyDeepseek>;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    model = tinyDeepseek();
    // The worker builds the same random-weight model (tinyDeepseek's config, seed and init).
    worker = await WorkerLanguageModel.start({ source: { kind: 'random', config: model.config, seed: 1, initStd: 0.08 }, backend: 'cpu' });
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    model?.dispose();
  });

  it('greedy generation through the engine equals the library for concurrent requests', async () => {
    expect(worker.concurrent).toBe(true);
    expect([worker.vocabSize, worker.contextLength]).toEqual([model.config.vocabSize, model.config.maxSeqLen]);
    const engine = new Engine({ model: worker, decode: (ids) => ids.join(' '), maxPrefillTokensPerStep: 4 });
    const prompts = [[1, 2, 3], [400, 3, 9, 27, 81, 243, 7], [42]];
    const expected = prompts.map((p) => referenceGreedy(model, p, 6));
    const results = await Promise.all(prompts.map((p) => engine.complete({ promptTokens: p, maxTokens: 6, sampling: resolveSamplingParams({ temperature: 0 }) })));
    expect(results.map((r) => r.tokens)).toEqual(expected);
    // Sampled rows get their logits back: a seeded draw matches the same draw in-process.
    const local = new DeepseekLanguageModel(model);
    const sampling = resolveSamplingParams({ temperature: 1, topK: 8, seed: 7 });
    const here = await new Engine({ model: local, decode: (ids) => ids.join(' ') }).complete({ promptTokens: [5, 6], maxTokens: 5, sampling });
    local.dispose();
    const there = await engine.complete({ promptTokens: [5, 6], maxTokens: 5, sampling });
    expect(there.tokens).toEqual(here.tokens);
  }, 60_000);

  it('a failed pass becomes a ServingError, and a closed model refuses work', async () => {
    const s = worker.createSequence();
    await expect(worker.prefill([{ sequence: s, tokens: [worker.vocabSize + 5] }])).rejects.toThrow(/model worker/);
    s.dispose();
    const spare = await WorkerLanguageModel.start({ source: { kind: 'random', config: model.config, seed: 1, initStd: 0.08 }, backend: 'cpu' });
    await spare.close();
    await expect(spare.decode([{ sequence: spare.createSequence(), token: 1 }])).rejects.toThrow(/closed/);
  }, 60_000);
});
