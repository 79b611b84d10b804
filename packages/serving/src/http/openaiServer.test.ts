import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LruResponseCache } from '../cache/responseCache.js';
import { BlocklistFilter } from '../filters/contentFilter.js';
import { servingFixture } from '../testing/servingFixture.js';
import { referenceGreedy } from '../testing/tinyModel.js';
import type { ServingServer } from './server.js';

const API_KEY = 'sk-test-123';

describe('OpenAI-compatible server (official openai client)', () => {
  let fx: Awaited<ReturnType<typeof servingFixture>>;
  let url: string;
  let server: ServingServer;
  let client: OpenAI;
  let eos: number;
  const expectedText = (prompt: number[], n: number) => fx.tokenizer.decode(referenceGreedy(fx.reference, prompt, n, [eos]), { skipSpecialTokens: true });

  beforeAll(async () => {
    fx = await servingFixture();
    eos = fx.tokenizer.eosTokenId!;
    ({ server, url } = await fx.start({ apiKey: API_KEY, responseCache: new LruResponseCache(), filter: new BlocklistFilter({ phrases: ['forbidden words'] }) }));
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'deepline' });
  });

  it('greedy completion equals the library and counts usage', async () => {
    const prompt = 'the cat sat on the mat';
    const r = await client.completions.create({ model: 'tiny', prompt, max_tokens: 10, temperature: 0 });
    const ids = fx.tokenizer.encode(prompt);
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.text).toBe(expectedText(ids, 10));
    const generated = referenceGreedy(fx.reference, ids, 10, [eos]).length;
    expect(r.usage).toEqual({ prompt_tokens: ids.length, completion_tokens: generated, total_tokens: ids.length + generated });
    expect(r.choices[0]!.finish_reason).toBe(generated === 10 && !referenceGreedy(fx.reference, ids, 10, [eos]).includes(eos) ? 'length' : 'stop');
  });

  it('chat uses the chat template; streaming with include_usage matches the non-streamed answer', async () => {
    const messages = [
      { role: 'system' as const, content: 'be brief' },
      { role: 'user' as const, content: 'hello there' },
    ];
    const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0 });
    const prompt = fx.tokenizer.encode(fx.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
    expect(r.choices[0]!.message).toMatchObject({ role: 'assistant', content: expectedText(prompt, 12) });
    expect(r.usage?.prompt_tokens).toBe(prompt.length);

    const stream = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe(r.choices[0]!.message.content);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(r.usage);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe(r.choices[0]!.finish_reason);
  });

  it('raw SSE ends with data: [DONE]', async () => {
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'abc', max_tokens: 3, stream: true }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text();
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(body.split('\n\n').filter(Boolean).every((frame) => frame.startsWith('data: '))).toBe(true);
  });

  it('seeded sampling is reproducible; n choices are returned', async () => {
    const ask = () => client.completions.create({ model: 'tiny', prompt: 'once upon', max_tokens: 8, temperature: 1, seed: 7, n: 2 });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices.map((c) => c.text)).toEqual(b.choices.map((c) => c.text));
    expect(a.choices).toHaveLength(2);
  });

  it('stop strings cut the output', async () => {
    const full = (await client.completions.create({ model: 'tiny', prompt: 'hello', max_tokens: 12, temperature: 0 })).choices[0]!.text;
    const stop = full.slice(3, 5);
    const r = await client.completions.create({ model: 'tiny', prompt: 'hello', max_tokens: 12, temperature: 0, stop: [stop] });
    expect(r.choices[0]!.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(r.choices[0]!.finish_reason).toBe('stop');
  });

  it('answers errors in OpenAI format through the client', async () => {
    const bad = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(client.completions.create({ model: 'nope', prompt: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found', message: expect.stringContaining('nope') });
    await expect(client.completions.create({ model: 'tiny', prompt: 'x', temperature: 5 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(client.completions.create({ model: 'tiny', prompt: 'the forbidden words' })).rejects.toMatchObject({ status: 400, code: 'content_filter' });
  });

  it('caches deterministic responses', async () => {
    const body = { model: 'tiny', prompt: 'cache me', max_tokens: 5, temperature: 0 };
    const post = () => fetch(`${url}/v1/completions`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body: JSON.stringify(body) });
    const first = await post();
    const second = await post();
    expect(first.headers.get('x-deepline-cache')).toBeNull();
    expect(second.headers.get('x-deepline-cache')).toBe('hit');
    const [a, b] = [(await first.json()) as { id: string; choices: unknown }, (await second.json()) as { id: string; choices: unknown }];
    expect(b.choices).toEqual(a.choices);
    expect(b.id).not.toBe(a.id);
  });

  it('trims chat history oldest-first to fit the context window', async () => {
    const long = 'word '.repeat(40);
    const messages = [
      { role: 'system' as const, content: 'sys' },
      ...Array.from({ length: 8 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', content: `${i} ${long}` })),
      { role: 'user' as const, content: 'last question' },
    ];
    const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 4, temperature: 0 });
    const limit = server.engine!.model.contextLength - 4;
    expect(r.usage!.prompt_tokens).toBeLessThanOrEqual(limit);
    // Independent linear scan: drop the oldest non-system turns one at a time until it fits.
    let expected = -1;
    for (let drop = 0; drop < messages.length - 1 && expected < 0; drop++) {
      const kept = [messages[0]!, ...messages.slice(1 + drop)];
      const n = fx.tokenizer.encode(fx.tokenizer.applyChatTemplate(kept, { addGenerationPrompt: true })).length;
      if (n <= limit) expected = n;
    }
    expect(expected).toBeGreaterThan(0);
    expect(r.usage!.prompt_tokens).toBe(expected);
    expect(fx.tokenizer.encode(fx.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })).length).toBeGreaterThan(limit);
    await expect(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: long.repeat(3) }], max_tokens: 4 })).rejects.toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
  });
});
