import type { IncomingMessage, ServerResponse } from 'node:http';
import { responseCacheKey } from '../cache/responseCache.js';
import type { GenerationRequest } from '../engine/engine.js';
import type { ChatMessage } from '../engine/languageModel.js';
import { ServingError, invalidRequest } from '../errors.js';
import { resolveSamplingParams } from '../sampling/sampler.js';
import { buildChatPrompt } from './chatPrompt.js';
import { type ChoiceResult, openAiFinishReason, runChoices } from './generation.js';
import { SseWriter, parseJson, readBody, sendJson } from './httpUtil.js';
import { type ChatRequest, type CompletionRequest, chatRequestSchema, completionRequestSchema, parseBody } from './openaiSchemas.js';
import { type RouteContext, responseId } from './server.js';

const CREATED = Math.floor(Date.now() / 1000);

/** The `/v1/models` entry (vLLM's ModelCard fields). */
export function modelCard(ctx: RouteContext) {
  const name = ctx.served.name;
  return { id: name, object: 'model', created: CREATED, owned_by: 'deepline', root: name, parent: null, max_model_len: ctx.served.model.contextLength, permission: [] };
}

type SharedFields = CompletionRequest | ChatRequest;

/** Per-request lifetime: an abort signal tied to client disconnect and the timeout. */
function requestLifetime(ctx: RouteContext, res: ServerResponse) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ctx.options.requestTimeoutMs ?? 120_000);
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => clearTimeout(timer),
  };
}

function checkModel(ctx: RouteContext, model: string): void {
  if (model !== ctx.served.name) {
    throw new ServingError(`The model \`${model}\` does not exist.`, { code: 'model_not_found', context: { status: 404, type: 'invalid_request_error', param: 'model' } });
  }
}

function checkPrompt(ctx: RouteContext, tokens: readonly number[], param: string): void {
  if (tokens.length > ctx.maxPromptTokens) {
    throw new ServingError(`prompt is ${tokens.length} tokens long; the limit is ${ctx.maxPromptTokens}`, {
      code: 'context_length_exceeded',
      context: { status: 400, type: 'invalid_request_error', param },
    });
  }
  if (tokens.length === 0) throw invalidRequest('prompt is empty', param);
}

function filterInput(ctx: RouteContext, texts: string[], param: string): void {
  const filter = ctx.options.filter;
  if (!filter) return;
  for (const text of texts) {
    const verdict = filter.checkInput(text);
    if (verdict.blocked) throw new ServingError(`the ${param} was rejected by the content filter`, { code: 'content_filter', context: { status: 400, type: 'invalid_request_error', param } });
  }
}

/** Generation settings common to both endpoints. */
function generationRequests(ctx: RouteContext, body: SharedFields, prompts: number[][], maxTokens: number, signal: AbortSignal): GenerationRequest[] {
  const sampling = resolveSamplingParams({
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    topK: body.top_k === -1 ? 0 : (body.top_k ?? undefined),
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    repetitionPenalty: body.repetition_penalty ?? undefined,
    seed: body.seed ?? undefined,
  });
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const stopTokenIds = [...(body.ignore_eos ? [] : ctx.served.tokenizer.stopTokenIds), ...(body.stop_token_ids ?? [])];
  const filter = ctx.options.filter;
  const blockOutput = filter ? (text: string) => filter.checkOutput(text).blocked : undefined;
  const n = body.n ?? 1;
  const arrivalTime = performance.now();
  const out: GenerationRequest[] = [];
  for (const promptTokens of prompts) {
    for (let i = 0; i < n; i++) {
      // With a seed, each of the n choices gets its own stream, reproducibly.
      const s = sampling.seed === undefined ? sampling : { ...sampling, seed: sampling.seed + i };
      out.push({ promptTokens, maxTokens, sampling: s, stop, stopTokenIds, blockOutput, signal, arrivalTime });
    }
  }
  return out;
}

function resolveMaxTokens(ctx: RouteContext, requested: number | null | undefined, longestPrompt: number, fallback: number): number {
  const room = ctx.served.model.contextLength - longestPrompt;
  if (requested != null) return requested; // the engine answers 400 when it does not fit
  return Math.max(1, Math.min(fallback, room));
}

function usage(results: ChoiceResult[], prompts: number[][]) {
  const promptTokens = prompts.reduce((a, p) => a + p.length, 0);
  const completionTokens = results.reduce((a, r) => a + r.completionTokens, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

function isDeterministic(body: SharedFields): boolean {
  return !body.stream && (body.temperature === 0 || body.seed != null);
}

/** Serves a cached response when there is one; otherwise returns the key to store under. */
async function fromCache(ctx: RouteContext, route: string, body: SharedFields, res: ServerResponse): Promise<{ hit: boolean; key?: string }> {
  const cache = ctx.options.responseCache;
  if (!cache || !isDeterministic(body)) return { hit: false };
  const { user: _user, ...rest } = body;
  const key = responseCacheKey(route, rest);
  const cached = await cache.get(key);
  ctx.metrics.responseCache.inc(ctx.metrics.label({ result: cached ? 'hit' : 'miss' }));
  if (!cached) return { hit: false, key };
  const parsed = JSON.parse(cached) as { id: string; created: number };
  parsed.id = responseId(route === 'chat' ? 'chatcmpl' : 'cmpl');
  parsed.created = Math.floor(Date.now() / 1000);
  sendJson(res, 200, parsed, { 'x-deepline-cache': 'hit' });
  return { hit: true };
}

function timeoutError(ctx: RouteContext): ServingError {
  return new ServingError(`request did not finish within ${ctx.options.requestTimeoutMs ?? 120_000} ms`, {
    code: 'request_timeout',
    context: { status: 408, type: 'timeout_error' },
  });
}

interface StreamChoicesOptions {
  ctx: RouteContext;
  res: ServerResponse;
  life: ReturnType<typeof requestLifetime>;
  requests: GenerationRequest[];
  prompts: number[][];
  id: string;
  created: number;
  model: string;
  object: 'text_completion' | 'chat.completion.chunk';
  includeUsage: boolean;
  /** Chunks sent before the first token (echoed prompts, the assistant role). */
  openingChoices: Record<string, unknown>[];
  /** The JSON member carrying a token's text, e.g. `"text":"…"`. */
  tokenField: (text: string) => string;
  /** The choice of the chunk that reports a finish reason. */
  finishChoice: (index: number, reason: string) => Record<string, unknown>;
}

/** Streams every choice as server-sent events, then the usage chunk (when asked) and [DONE]. */
async function streamChoices(o: StreamChoicesOptions): Promise<void> {
  const chunk = (choices: unknown[]) => ({ id: o.id, object: o.object, created: o.created, model: o.model, choices, ...(o.includeUsage ? { usage: null } : {}) });
  // Token chunks are the hot path: built as strings around a fixed head and tail.
  const tokenHead = `{"id":${JSON.stringify(o.id)},"object":"${o.object}","created":${o.created},"model":${JSON.stringify(o.model)},"choices":[{"index":`;
  const tokenTail = `,"logprobs":null,"finish_reason":null}]${o.includeUsage ? ',"usage":null' : ''}}`;
  const sse = new SseWriter(o.res);
  for (const choice of o.openingChoices) sse.send(chunk([choice]));
  const results = await runChoices({
    engine: o.ctx.engine,
    requests: o.requests,
    onDelta: (d) => {
      if (d.finishReason === undefined) sse.sendFrame(`${tokenHead}${d.index},${o.tokenField(d.text)}${tokenTail}`);
      else if (d.finishReason !== 'abort' && d.finishReason !== 'error') sse.send(chunk([o.finishChoice(d.index, openAiFinishReason(d.finishReason))]));
    },
  }).catch((error) => {
    sse.send({ error: { message: o.life.timedOut() ? timeoutError(o.ctx).message : 'generation failed', type: 'server_error' } });
    throw error;
  });
  if (o.life.timedOut()) {
    sse.send({ error: { message: timeoutError(o.ctx).message, type: 'timeout_error', code: 'request_timeout' } });
    sse.end();
    return;
  }
  if (o.includeUsage) sse.send({ id: o.id, object: o.object, created: o.created, model: o.model, choices: [], usage: usage(results, o.prompts) });
  sse.end();
}

async function readJson(ctx: RouteContext, req: IncomingMessage): Promise<unknown> {
  return parseJson(await readBody(req, ctx.options.maxBodyBytes ?? 1024 * 1024));
}

export async function handleCompletion(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseBody(completionRequestSchema, await readJson(ctx, req));
  checkModel(ctx, body.model);
  const tokenizer = ctx.served.tokenizer;
  const raw = body.prompt;
  const promptList: Array<string | number[]> =
    typeof raw === 'string' ? [raw] : typeof raw[0] === 'number' ? [raw as number[]] : (raw as Array<string | number[]>);
  const vocab = ctx.served.model.vocabSize;
  for (const p of promptList) {
    if (typeof p !== 'string' && p.some((t) => t < 0 || t >= vocab)) throw invalidRequest(`prompt token ids must be in [0, ${vocab})`, 'prompt');
  }
  filterInput(ctx, promptList.map((p) => (typeof p === 'string' ? p : tokenizer.decode(p))), 'prompt');
  const prompts = promptList.map((p) => (typeof p === 'string' ? tokenizer.encode(p) : p));
  for (const p of prompts) checkPrompt(ctx, p, 'prompt');
  const cached = await fromCache(ctx, 'completion', body, res);
  if (cached.hit) return;
  const maxTokens = resolveMaxTokens(ctx, body.max_tokens, Math.max(...prompts.map((p) => p.length)), 16);
  const life = requestLifetime(ctx, res);
  const id = responseId('cmpl');
  const created = Math.floor(Date.now() / 1000);
  const n = body.n ?? 1;
  const echo = (i: number) => (body.echo ? (typeof promptList[Math.floor(i / n)] === 'string' ? (promptList[Math.floor(i / n)] as string) : tokenizer.decode(prompts[Math.floor(i / n)]!)) : '');
  try {
    const requests = generationRequests(ctx, body, prompts, maxTokens, life.signal);
    if (body.stream) {
      await streamChoices({
        ctx,
        res,
        life,
        requests,
        prompts,
        id,
        created,
        model: body.model,
        object: 'text_completion',
        includeUsage: body.stream_options?.include_usage === true,
        openingChoices: body.echo ? requests.map((_, i) => ({ index: i, text: echo(i), logprobs: null, finish_reason: null })) : [],
        tokenField: (text) => `"text":${JSON.stringify(text)}`,
        finishChoice: (index, reason) => ({ index, text: '', logprobs: null, finish_reason: reason }),
      });
      return;
    }
    const results = await runChoices({ engine: ctx.engine, requests });
    if (life.timedOut()) throw timeoutError(ctx);
    if (life.signal.aborted) return; // client left: nothing to send
    const response = {
      id,
      object: 'text_completion',
      created,
      model: body.model,
      choices: results.map((r, i) => ({ index: i, text: echo(i) + r.text, logprobs: null, finish_reason: openAiFinishReason(r.finishReason) })),
      usage: usage(results, prompts),
    };
    sendJson(res, 200, response);
    if (cached.key) await ctx.options.responseCache!.set(cached.key, JSON.stringify(response));
  } finally {
    life.done();
  }
}

function messageText(content: ChatRequest['messages'][number]['content']): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

export async function handleChatCompletion(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseBody(chatRequestSchema, await readJson(ctx, req));
  checkModel(ctx, body.model);
  const messages: ChatMessage[] = body.messages.map((m) => ({ role: m.role, content: messageText(m.content) }));
  filterInput(ctx, messages.map((m) => m.content), 'messages');
  const requested = body.max_completion_tokens ?? body.max_tokens;
  const reserve = requested ?? 1;
  const limit = Math.min(ctx.maxPromptTokens, ctx.served.model.contextLength - reserve);
  if (limit < 1) throw invalidRequest(`max_tokens ${requested} leaves no room for a prompt in the ${ctx.served.model.contextLength}-token context`, 'max_tokens');
  const { tokens } = buildChatPrompt({ tokenizer: ctx.served.tokenizer, messages, maxPromptTokens: limit });
  const prompts = [tokens];
  const cached = await fromCache(ctx, 'chat', body, res);
  if (cached.hit) return;
  const maxTokens = resolveMaxTokens(ctx, requested, tokens.length, Number.POSITIVE_INFINITY);
  const life = requestLifetime(ctx, res);
  const id = responseId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  try {
    const requests = generationRequests(ctx, body, prompts, maxTokens, life.signal);
    if (body.stream) {
      await streamChoices({
        ctx,
        res,
        life,
        requests,
        prompts,
        id,
        created,
        model: body.model,
        object: 'chat.completion.chunk',
        includeUsage: body.stream_options?.include_usage === true,
        openingChoices: requests.map((_, i) => ({ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })),
        tokenField: (text) => `"delta":{"content":${JSON.stringify(text)}}`,
        finishChoice: (index, reason) => ({ index, delta: {}, logprobs: null, finish_reason: reason }),
      });
      return;
    }
    const results = await runChoices({ engine: ctx.engine, requests });
    if (life.timedOut()) throw timeoutError(ctx);
    if (life.signal.aborted) return;
    const response = {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: results.map((r, i) => ({ index: i, message: { role: 'assistant', content: r.text }, logprobs: null, finish_reason: openAiFinishReason(r.finishReason) })),
      usage: usage(results, prompts),
    };
    sendJson(res, 200, response);
    if (cached.key) await ctx.options.responseCache!.set(cached.key, JSON.stringify(response));
  } finally {
    life.done();
  }
}
