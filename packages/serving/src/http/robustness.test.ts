import autocannon from 'autocannon';
import { tf } from '@deepline/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponseCache } from '../cache/responseCache.js';
import { parsePrometheusText } from '../testing/prometheusText.js';
import { hasRedisServer, startRedisServer } from '../testing/redisServer.js';
import { servingFixture } from '../testing/servingFixture.js';
import type { ServingServer } from './server.js';

async function post(url: string, path: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (() => { try { return JSON.parse(text); } catch { return undefined; } })() };
}

describe('server robustness, metrics, cancellation, TF-Serving, load', () => {
  let fx: Awaited<ReturnType<typeof servingFixture>>;
  let url: string;
  let server: ServingServer;

  beforeAll(async () => {
    fx = await servingFixture();
    ({ server, url } = await fx.start({ maxBodyBytes: 4096, maxPromptTokens: 100 }));
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('bad input gets a 4xx with a message, never a 5xx', async () => {
    const cases: Array<[string, string | object, string | null]> = [
      ['/v1/completions', '{"model": "tiny", "prompt": ', null],
      ['/v1/completions', '', null],
      ['/v1/completions', '[1,2]', null],
      ['/v1/completions', { model: 'tiny' }, 'prompt'],
      ['/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 'ten' }, 'max_tokens'],
      ['/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: -1 }, 'max_tokens'],
      ['/v1/completions', { model: 'tiny', prompt: 'x', max_tokens: 1_000_000 }, 'max_tokens'],
      ['/v1/completions', { model: 'tiny', prompt: [99999] }, 'prompt'],
      ['/v1/completions', { model: 'tiny', prompt: 'x', stop: 5 }, 'stop'],
      ['/v1/completions', { model: 'tiny', prompt: 'x', top_p: 0 }, 'top_p'],
      ['/v1/completions', { model: 'tiny', prompt: 'word '.repeat(300) }, 'prompt'],
      ['/v1/completions', { model: 'tiny', prompt: 'x'.repeat(5000) }, null],
      ['/v1/chat/completions', { model: 'tiny', messages: [] }, 'messages'],
      ['/v1/chat/completions', { model: 'tiny', messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role'],
      ['/v1/chat/completions', { model: 'tiny', messages: 'hi' }, 'messages'],
    ];
    for (const [path, body, param] of cases) {
      const r = await post(url, path, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.json.error.message).toEqual(expect.any(String));
      expect(r.json.error.message.length).toBeGreaterThan(5);
      expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack traces
      if (param) expect(r.json.error.param).toBe(param);
    }
    expect((await fetch(`${url}/v1/completions`)).status).toBe(405);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
  });

  it('metrics parse as Prometheus text and move as requests run', async () => {
    const read = async () => parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    const before = await read();
    const key = (name: string, labels = '') => `deepline_${name}{model_name="tiny"${labels}}`;
    const r = await post(url, '/v1/completions', { model: 'tiny', prompt: 'count me', max_tokens: 5, temperature: 0, ignore_eos: true });
    expect(r.status).toBe(200);
    const after = await read();
    const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    expect(delta(key('prompt_tokens_total'))).toBe(r.json.usage.prompt_tokens);
    expect(delta(key('generation_tokens_total'))).toBe(5);
    expect(delta(key('request_success_total', ',finished_reason="length"'))).toBe(1);
    expect(delta(key('time_to_first_token_seconds_count'))).toBe(1);
    expect(delta(key('inter_token_latency_seconds_count'))).toBe(4);
    expect(delta(key('e2e_request_latency_seconds_count'))).toBe(1);
    expect(delta(key('request_queue_time_seconds_count'))).toBe(1);
    for (const g of ['num_requests_running', 'num_requests_waiting', 'kv_cache_usage_perc']) expect(after.has(key(g))).toBe(true);
  });

  it('a client disconnect cancels the generation', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tiny', prompt: 'go on', max_tokens: 200, stream: true, ignore_eos: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const deadline = Date.now() + 5000;
    while (server.engine!.stats().running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.engine!.stats().running).toBe(0);
    const metrics = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    expect(metrics.get('deepline_request_success_total{model_name="tiny",finished_reason="abort"}')).toBe(1);
    expect(metrics.get('deepline_generation_tokens_total{model_name="tiny"}')).toBeLessThan(150);
  });

  it('serves TF-Serving predict (rows and columns) and status', async () => {
    const rows = await post(url, '/v1/models/tiny:predict', { instances: ['hello', { prompt: 'abc', max_tokens: 3 }, [5, 6, 7]] });
    expect(rows.status).toBe(200);
    expect(rows.json.predictions).toHaveLength(3);
    expect(rows.json.predictions[1].output_ids.length).toBeLessThanOrEqual(3);
    const cols = await post(url, '/v1/models/tiny/versions/1:predict', { inputs: { prompt: ['hello'] } });
    expect(cols.json.outputs.generated_text).toEqual([rows.json.predictions[0].generated_text]);
    const status = (await (await fetch(`${url}/v1/models/tiny`)).json()) as { model_version_status: unknown };
    expect(status.model_version_status).toEqual([{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }]);
    const missing = await post(url, '/v1/models/other:predict', { instances: ['x'] });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toContain('Servable not found');
    const both = await post(url, '/v1/models/tiny:predict', { instances: ['x'], inputs: ['y'] });
    expect(both.status).toBe(400);
    expect(typeof both.json.error).toBe('string');
  });

  it('a bounded load run (32 connections) ends with zero errors and a flat tensor count', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const result = await autocannon({
      url: `${url}/v1/completions`,
      connections: 32,
      amount: 96,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'load test', max_tokens: 4, temperature: 0.8 }),
      timeout: 60,
    });
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBe(96);
    await server.engine!.idle();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});

describe('server protection', () => {
  let fx: Awaited<ReturnType<typeof servingFixture>>;
  beforeAll(async () => {
    fx = await servingFixture();
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('a full queue answers 429 with Retry-After', async () => {
    const { url } = await fx.start({ engine: { maxBatchSize: 1, maxQueueSize: 1 } });
    const body = { model: 'tiny', prompt: 'busy', max_tokens: 20, ignore_eos: true };
    const results = await Promise.all(Array.from({ length: 6 }, () => post(url, '/v1/completions', body)));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(limited[0]!.headers.get('retry-after')).toBe('1');
    expect(limited[0]!.json.error.type).toBe('rate_limit_error');
  });

  it('a request past its timeout is cancelled with a 408', async () => {
    const { url } = await fx.start({ requestTimeoutMs: 50 });
    const r = await post(url, '/v1/completions', { model: 'tiny', prompt: 'slow', max_tokens: 200, ignore_eos: true });
    expect(r.status).toBe(408);
    expect(r.json.error.code).toBe('request_timeout');
  });

  it('graceful shutdown finishes in-flight requests and refuses new ones', async () => {
    const { server, url } = await fx.start();
    const inflight = post(url, '/v1/completions', { model: 'tiny', prompt: 'finish me', max_tokens: 30, ignore_eos: true });
    while (server.engine!.stats().running === 0) await new Promise((r) => setTimeout(r, 5));
    const closing = server.close();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.json.usage.completion_tokens).toBe(30);
    await closing;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

describe.skipIf(!hasRedisServer())('response cache in Redis (real redis-server)', () => {
  let fx: Awaited<ReturnType<typeof servingFixture>>;
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  beforeAll(async () => {
    redis = await startRedisServer();
    fx = await servingFixture();
  });
  afterAll(async () => {
    await fx?.cleanup();
    await redis?.stop();
  });

  it('a second server sharing the Redis URL answers a repeated deterministic request from the cache', async () => {
    const a = await fx.start({ responseCache: createResponseCache({ redisUrl: redis.url }) });
    const b = await fx.start({ responseCache: createResponseCache({ redisUrl: redis.url }) });
    const body = { model: 'tiny', prompt: 'shared cache', max_tokens: 4, seed: 5, temperature: 0.7 };
    const first = await post(a.url, '/v1/completions', body);
    const second = await post(b.url, '/v1/completions', body);
    expect(first.headers.get('x-deepline-cache')).toBeNull();
    expect(second.headers.get('x-deepline-cache')).toBe('hit');
    expect(second.json.choices).toEqual(first.json.choices);
    const streamed = await post(b.url, '/v1/completions', { ...body, stream: true });
    expect(streamed.headers.get('x-deepline-cache')).toBeNull(); // streams are never served from the cache
  });
});
