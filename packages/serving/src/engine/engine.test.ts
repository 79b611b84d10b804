import { describe, expect, it } from 'vitest';
import type { ServingError } from '../errors.js';
import { ServingMetrics } from '../metrics/servingMetrics.js';
import { resolveSamplingParams } from '../sampling/sampler.js';
import { FakeLanguageModel, fakeGreedy } from '../testing/fakeLanguageModel.js';
import { Engine, type GenerationRequest } from './engine.js';

// Token id i decodes to the letter at i (mod 26): enough for stop-string tests.
const decode = (ids: readonly number[]) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join('');
const greedy = resolveSamplingParams({ temperature: 0 });

function request(prompt: number[], maxTokens: number, extra: Partial<GenerationRequest> = {}): GenerationRequest {
  return { promptTokens: prompt, maxTokens, sampling: greedy, ...extra };
}

describe('Engine', () => {
  it('greedy output equals the model run alone, for many concurrent requests', async () => {
    const model = new FakeLanguageModel();
    const engine = new Engine({ model, decode });
    const prompts = Array.from({ length: 12 }, (_, i) => [i + 1, (i * 7) % 60, 3]);
    const results = await Promise.all(prompts.map((p) => engine.complete(request(p, 10))));
    results.forEach((r, i) => {
      expect(r.tokens).toEqual(fakeGreedy(model, prompts[i]!, 10));
      expect(r.finishReason).toBe('length');
      expect(r.text).toBe(decode(r.tokens));
      expect(r.completionTokens).toBe(10);
      expect(r.promptTokens).toBe(3);
    });
    expect(Math.max(...model.decodeBatchSizes)).toBe(12);
    expect(model.live).toBe(0);
  });

  it('a request arriving mid-generation joins the running batch between decode steps', async () => {
    const model = new FakeLanguageModel({ stepDelayMs: 2 });
    const engine = new Engine({ model, decode });
    const first = engine.complete(request([1, 2], 30));
    while (model.decodeBatchSizes.length < 5) await new Promise((r) => setTimeout(r, 1));
    const second = engine.complete(request([5], 5));
    const [a, b] = await Promise.all([first, second]);
    expect(a.tokens).toEqual(fakeGreedy(model, [1, 2], 30));
    expect(b.tokens).toEqual(fakeGreedy(model, [5], 5));
    // The second joined while the first was still running: some steps decoded both.
    const joinedAt = model.decodeBatchSizes.indexOf(2);
    expect(joinedAt).toBeGreaterThanOrEqual(5);
    expect(model.decodeBatchSizes.filter((n) => n === 2)).toHaveLength(4);
  });

  it('with a model that mixes them, arriving prompts share the running decode step', async () => {
    const model = new FakeLanguageModel({ stepDelayMs: 1, mixedSteps: true });
    const engine = new Engine({ model, decode });
    const first = engine.complete(request([1, 2], 20));
    while (model.decodeBatchSizes.length < 3) await new Promise((r) => setTimeout(r, 1));
    const later = [engine.complete(request([5, 6, 7], 6)), engine.complete(request([9], 6))];
    const [a, b, c] = await Promise.all([first, ...later]);
    expect(a!.tokens).toEqual(fakeGreedy(model, [1, 2], 20));
    expect(b!.tokens).toEqual(fakeGreedy(model, [5, 6, 7], 6));
    expect(c!.tokens).toEqual(fakeGreedy(model, [9], 6));
    // The two prompts were prefilled inside a step that also decoded the first request.
    expect(model.mixedSteps).toContainEqual([2, 1]);
    expect(model.live).toBe(0);
  });

  it('stop strings and stop token ids end generation', async () => {
    const model = new FakeLanguageModel();
    const engine = new Engine({ model, decode });
    const expected = fakeGreedy(model, [4, 4], 12);
    const full = decode(expected);
    const stop = full.slice(5, 7);
    const r = await engine.complete(request([4, 4], 12, { stop: [stop] }));
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(full.slice(0, full.indexOf(stop)));
    const byId = await engine.complete(request([4, 4], 12, { stopTokenIds: [expected[3]!] }));
    expect(byId.finishReason).toBe('stop');
    expect(byId.tokens).toEqual(expected.slice(0, expected.indexOf(expected[3]!) + 1));
  });

  it('an output filter ends generation before the blocked text is emitted', async () => {
    const model = new FakeLanguageModel();
    const engine = new Engine({ model, decode });
    const full = decode(fakeGreedy(model, [7], 12));
    const banned = full.slice(6, 8);
    const r = await engine.complete(request([7], 12, { blockOutput: (text) => text.includes(banned) }));
    expect(r.finishReason).toBe('content_filter');
    expect(r.text).toBe(full.slice(0, full.indexOf(banned) + 1));
    expect(r.text.includes(banned)).toBe(false);
  });

  it('chunks long prompts across iterations and respects the batch size and KV budget', async () => {
    const model = new FakeLanguageModel({ contextLength: 256 });
    const engine = new Engine({ model, decode, maxBatchSize: 3, maxPrefillTokensPerStep: 16, kvCacheBudgetBytes: 64 * 200 });
    const long = Array.from({ length: 40 }, (_, i) => i % 50);
    const rs = await Promise.all([engine.complete(request(long, 4)), ...[1, 2, 3, 4].map((i) => engine.complete(request([i], 50)))]);
    expect(rs[0]!.tokens).toEqual(fakeGreedy(model, long, 4));
    expect(Math.max(...model.prefillChunks)).toBeLessThanOrEqual(16);
    // 44 + 51 + 51 tokens fit the 200-token budget, a fourth 51 does not.
    expect(Math.max(...model.decodeBatchSizes)).toBeLessThanOrEqual(3);
    expect(engine.stats().kvCacheUsage).toBe(0);
  });

  it('cancellation (abort signal or leaving the stream) frees the sequence', async () => {
    const model = new FakeLanguageModel({ stepDelayMs: 1 });
    const engine = new Engine({ model, decode });
    const controller = new AbortController();
    const events: string[] = [];
    const run = (async () => {
      for await (const e of engine.generate(request([1], 100, { signal: controller.signal }))) {
        events.push(e.type === 'finish' ? `finish:${e.reason}` : 'token');
        if (events.length === 3) controller.abort();
      }
    })();
    await run;
    expect(events.at(-1)).toBe('finish:abort');
    expect(events.length).toBeLessThan(10);
    let count = 0;
    for await (const _ of engine.generate(request([2], 100))) if (++count === 2) break;
    await engine.idle();
    expect(model.live).toBe(0);
    expect(model.decodeBatchSizes.length).toBeLessThan(20);
  });

  it('rejects bad requests with 400 and a full queue with 429', async () => {
    const model = new FakeLanguageModel({ contextLength: 32, stepDelayMs: 5 });
    const engine = new Engine({ model, decode, maxBatchSize: 1, maxQueueSize: 1 });
    const status = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as ServingError).context.status;
      }
      return 0;
    };
    expect(status(() => engine.generate(request([], 3)))).toBe(400);
    expect(status(() => engine.generate(request([999], 3)))).toBe(400);
    expect(status(() => engine.generate(request([1], 40)))).toBe(400);
    const a = engine.complete(request([1], 3));
    await new Promise((r) => setTimeout(r, 1)); // a is admitted, the queue is empty again
    const b = engine.complete(request([2], 3));
    let queueFull: ServingError | undefined;
    try {
      engine.generate(request([3], 3));
    } catch (e) {
      queueFull = e as ServingError;
    }
    expect(queueFull?.context).toMatchObject({ status: 429, retryAfterSeconds: 1 });
    await Promise.all([a, b]);
  });

  it('seeded sampling is reproducible across runs and batch compositions', async () => {
    const model = new FakeLanguageModel();
    const engine = new Engine({ model, decode });
    const sampled = (seed: number) => request([9, 9], 15, { sampling: resolveSamplingParams({ temperature: 1.5, seed }) });
    const alone = await engine.complete(sampled(42));
    const crowd = await Promise.all([engine.complete(sampled(42)), engine.complete(request([1], 15)), engine.complete(sampled(43))]);
    expect(crowd[0].tokens).toEqual(alone.tokens);
    expect(crowd[2].tokens).not.toEqual(alone.tokens);
  });

  it('updates the vLLM-style metrics', async () => {
    const model = new FakeLanguageModel();
    const metrics = new ServingMetrics({ modelName: 'fake', processMetrics: false });
    const engine = new Engine({ model, decode, metrics });
    await Promise.all([engine.complete(request([1, 2, 3], 5)), engine.complete(request([4], 7))]);
    const text = await metrics.render();
    expect(text).toContain('deepline_prompt_tokens_total{model_name="fake"} 4');
    expect(text).toContain('deepline_generation_tokens_total{model_name="fake"} 12');
    expect(text).toContain('deepline_request_success_total{model_name="fake",finished_reason="length"} 2');
    expect(text).toContain('deepline_time_to_first_token_seconds_count{model_name="fake"} 2');
    expect(text).toContain('deepline_inter_token_latency_seconds_count{model_name="fake"} 10');
    expect(text).toContain('deepline_num_requests_running{model_name="fake"} 0');
  });
});
