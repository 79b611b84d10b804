import { ServingError, invalidRequest } from '../errors.js';
import type { ServingMetrics } from '../metrics/servingMetrics.js';
import { Sampler, type SamplingParams } from '../sampling/sampler.js';
import { EventQueue } from './eventQueue.js';
import type { LanguageModel, ModelSequence, NextToken } from './languageModel.js';
import { TextStream } from './textStream.js';

/** Why a sequence stopped; `abort` = cancelled (disconnect, timeout, shutdown). */
export type FinishReason = 'stop' | 'length' | 'abort' | 'content_filter' | 'error';

export interface GenerationRequest {
  /** Prompt token ids (non-empty). */
  promptTokens: readonly number[];
  /** Most tokens to generate. */
  maxTokens: number;
  sampling: SamplingParams;
  /** Strings that end generation; they are not part of the output. */
  stop?: readonly string[];
  /** Token ids that end generation (usually the tokenizer's EOS). */
  stopTokenIds?: readonly number[];
  /** Returns true when the text generated so far must not be continued (output filter). */
  blockOutput?: (text: string) => boolean;
  /** Cancels the request (client disconnect, timeout). */
  signal?: AbortSignal;
  /** `performance.now()` when the request arrived; defaults to submission time. */
  arrivalTime?: number;
}

export type GenerationEvent =
  | { type: 'token'; token: number; text: string }
  | { type: 'finish'; reason: FinishReason; text: string; promptTokens: number; completionTokens: number };

export interface EngineOptions {
  model: LanguageModel;
  /** Token-id → text, for stop strings and output filters. */
  decode: (ids: readonly number[]) => string;
  /** Most sequences decoded together in one step. Default 64. */
  maxBatchSize?: number;
  /** KV-cache memory budget in bytes. Default: maxBatchSize full contexts. */
  kvCacheBudgetBytes?: number;
  /** Most requests waiting for a batch slot; beyond it submissions get 429. Default 256. */
  maxQueueSize?: number;
  /** Prompt tokens prefilled per iteration, so long prompts do not stall running decodes. Default 256. */
  maxPrefillTokensPerStep?: number;
  metrics?: ServingMetrics;
}

interface PromptChunk {
  s: SequenceState;
  tokens: number[];
}

interface SequenceState {
  request: GenerationRequest;
  events: EventQueue<GenerationEvent>;
  sampler: Sampler;
  text: TextStream;
  stopIds: Set<number>;
  arrival: number;
  admitted?: number;
  firstToken?: number;
  lastToken?: number;
  model?: ModelSequence;
  prefilled: number;
  pendingToken?: number;
  generated: number;
  /** Text emitted so far. */
  output: string;
  reservedBytes: number;
  finished: boolean;
  cancelled: boolean;
  cleanup: () => void;
}

/**
 * Continuous (iteration-level) batching: between two decode steps, cancelled sequences
 * leave, queued ones are admitted while their KV reservation fits the budget, admitted
 * prompts are prefilled in bounded chunks, then one batched decode step advances every
 * running sequence by a token.
 */
export class Engine {
  readonly model: LanguageModel;
  private readonly options: Required<Omit<EngineOptions, 'metrics'>> & { metrics?: ServingMetrics };
  private readonly waiting: SequenceState[] = [];
  private readonly running: SequenceState[] = [];
  private reservedBytes = 0;
  private loopPromise: Promise<void> | undefined;
  private closed = false;
  private totalDecodeSteps = 0;

  constructor(options: EngineOptions) {
    const maxBatchSize = options.maxBatchSize ?? 64;
    this.model = options.model;
    this.options = {
      ...options,
      maxBatchSize,
      kvCacheBudgetBytes: options.kvCacheBudgetBytes ?? maxBatchSize * options.model.contextLength * options.model.kvBytesPerToken,
      maxQueueSize: options.maxQueueSize ?? 256,
      maxPrefillTokensPerStep: options.maxPrefillTokensPerStep ?? 256,
    };
  }

  /**
   * Queues a request and returns its event stream (tokens, then one `finish`). Breaking
   * out of the stream cancels the request. Throws a 429 ServingError when the queue is full.
   */
  generate(request: GenerationRequest): AsyncIterableIterator<GenerationEvent> {
    this.validate(request);
    if (this.closed) throw new ServingError('server is shutting down', { code: 'shutting_down', context: { status: 503, type: 'server_error', retryAfterSeconds: 5 } });
    if (this.waiting.length >= this.options.maxQueueSize) {
      throw new ServingError(`request queue is full (${this.options.maxQueueSize} waiting); retry later`, {
        code: 'queue_full',
        context: { status: 429, type: 'rate_limit_error', retryAfterSeconds: 1 },
      });
    }
    const state: SequenceState = {
      request,
      events: new EventQueue<GenerationEvent>(() => this.cancel(state)),
      sampler: new Sampler({ params: request.sampling, promptTokens: request.promptTokens }),
      text: new TextStream({ decode: this.options.decode, stop: request.stop }),
      stopIds: new Set(request.stopTokenIds ?? []),
      arrival: request.arrivalTime ?? performance.now(),
      prefilled: 0,
      generated: 0,
      output: '',
      reservedBytes: (request.promptTokens.length + request.maxTokens) * this.model.kvBytesPerToken,
      finished: false,
      cancelled: false,
      cleanup: () => {},
    };
    const signal = request.signal;
    if (signal) {
      if (signal.aborted) state.cancelled = true;
      const onAbort = () => this.cancel(state);
      signal.addEventListener('abort', onAbort, { once: true });
      state.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.waiting.push(state);
    this.options.metrics?.requestMaxTokens.observe(this.options.metrics.label(), request.maxTokens);
    this.updateGauges();
    this.kick();
    return state.events;
  }

  /** Runs a request to completion and returns the text and counts. */
  async complete(request: GenerationRequest): Promise<{ text: string; tokens: number[]; finishReason: FinishReason; promptTokens: number; completionTokens: number }> {
    const tokens: number[] = [];
    for await (const event of this.generate(request)) {
      if (event.type === 'token') tokens.push(event.token);
      else return { text: event.text, tokens, finishReason: event.reason, promptTokens: event.promptTokens, completionTokens: event.completionTokens };
    }
    throw new ServingError('generation ended without a finish event', { code: 'internal', context: { status: 500, type: 'server_error' } });
  }

  /** Sequences decoding now and waiting, the KV budget in use (0–1) and decode steps run. */
  stats(): { running: number; waiting: number; kvCacheUsage: number; decodeSteps: number } {
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvCacheUsage: this.reservedBytes / this.options.kvCacheBudgetBytes,
      decodeSteps: this.totalDecodeSteps,
    };
  }

  /** Refuses new requests; resolves once every in-flight one has finished. */
  async shutdown(options: { abort?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (options.abort) for (const s of [...this.waiting, ...this.running]) this.cancel(s);
    await this.loopPromise;
  }

  /** Resolves when no request is queued or running. */
  async idle(): Promise<void> {
    while (this.loopPromise) await this.loopPromise;
  }

  private validate(request: GenerationRequest): void {
    const n = request.promptTokens.length;
    if (n === 0) throw invalidRequest('prompt must contain at least one token', 'prompt');
    for (const t of request.promptTokens) {
      if (!Number.isInteger(t) || t < 0 || t >= this.model.vocabSize) throw invalidRequest(`prompt token id ${t} is outside the vocabulary [0, ${this.model.vocabSize})`, 'prompt');
    }
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) throw invalidRequest('max_tokens must be a positive integer', 'max_tokens');
    if (n + request.maxTokens > this.model.contextLength) {
      throw new ServingError(
        `This model's maximum context length is ${this.model.contextLength} tokens. However, you requested ${n + request.maxTokens} tokens (${n} in the prompt, ${request.maxTokens} in the completion).`,
        { code: 'context_length_exceeded', context: { status: 400, type: 'invalid_request_error', param: 'max_tokens' } },
      );
    }
    const bytes = (n + request.maxTokens) * this.model.kvBytesPerToken;
    if (bytes > this.options.kvCacheBudgetBytes) throw invalidRequest(`request needs ${bytes} bytes of KV cache, more than the server's budget of ${this.options.kvCacheBudgetBytes}`, 'max_tokens');
  }

  private cancel(state: SequenceState): void {
    if (state.finished) return;
    state.cancelled = true;
    const i = this.waiting.indexOf(state);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.finish(state, 'abort');
    }
    // Running sequences leave at the next iteration boundary (a step may be using them).
  }

  private kick(): void {
    if (this.loopPromise) return;
    this.loopPromise = this.loop().finally(() => {
      this.loopPromise = undefined;
      this.updateGauges();
      if (this.waiting.length > 0 || this.running.length > 0) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.waiting.length > 0 || this.running.length > 0) {
      this.reap();
      this.admit();
      const chunks = this.prefillChunks();
      const running = this.decodeBatch();
      // Prompts and decodes share one forward when the model can mix them; otherwise
      // the prompts go first and the sequences they complete decode in the same iteration.
      const tokens =
        chunks.length > 0 && running.length > 0 && this.model.step
          ? await this.mixedStep(chunks, running)
          : (await this.prefillStep(chunks)) + (await this.decodeStep(this.decodeBatch()));
      if (tokens > 0) this.options.metrics?.iterationTokens.observe(this.options.metrics.label(), tokens);
      this.updateGauges();
      // Let the event loop read new requests and notice disconnects between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private reap(): void {
    for (let i = this.running.length - 1; i >= 0; i--) {
      const s = this.running[i]!;
      if (s.cancelled || s.finished) {
        this.running.splice(i, 1);
        if (!s.finished) this.finish(s, 'abort');
      }
    }
    for (const s of this.waiting.filter((w) => w.cancelled)) this.cancel(s);
  }

  private admit(): void {
    const budget = this.options.kvCacheBudgetBytes;
    while (this.waiting.length > 0 && this.running.length < this.options.maxBatchSize) {
      const next = this.waiting[0]!;
      if (this.reservedBytes + next.reservedBytes > budget) break; // first come, first served
      this.waiting.shift();
      this.reservedBytes += next.reservedBytes;
      next.admitted = performance.now();
      next.model = this.model.createSequence();
      this.running.push(next);
      this.options.metrics?.queueTime.observe(this.options.metrics.label(), (next.admitted - next.arrival) / 1000);
    }
  }

  /** The next prompt chunks of as many admitted sequences as the token budget allows. */
  private prefillChunks(): PromptChunk[] {
    let budget = this.options.maxPrefillTokensPerStep;
    const chunks: PromptChunk[] = [];
    for (const s of this.running) {
      if (budget <= 0) break;
      if (s.finished || s.cancelled || s.prefilled >= s.request.promptTokens.length) continue;
      const tokens = s.request.promptTokens.slice(s.prefilled, s.prefilled + budget);
      chunks.push({ s, tokens });
      budget -= tokens.length;
    }
    return chunks;
  }

  /** Sequences with a sampled token waiting to be fed back. */
  private decodeBatch(): SequenceState[] {
    return this.running.filter((s) => !s.finished && !s.cancelled && s.pendingToken !== undefined);
  }

  /** Prefills `chunks` in one batched call. */
  private async prefillStep(chunks: PromptChunk[]): Promise<number> {
    if (chunks.length === 0) return 0;
    let logits: NextToken[];
    try {
      logits = await this.model.prefill(this.prefillInputs(chunks));
    } catch (error) {
      for (const c of chunks) this.fail(c.s, error);
      return 0;
    }
    return this.afterPrefill(chunks, logits);
  }

  /** Prompt chunks and one decode step of `batch` in a single model call. */
  private async mixedStep(chunks: PromptChunk[], batch: SequenceState[]): Promise<number> {
    this.totalDecodeSteps++;
    let out: { prefill: NextToken[]; decode: NextToken[] };
    try {
      out = await this.model.step!(this.prefillInputs(chunks), this.decodeInputs(batch));
    } catch (error) {
      for (const c of chunks) this.fail(c.s, error);
      for (const s of batch) this.fail(s, error);
      return 0;
    }
    return this.afterPrefill(chunks, out.prefill) + this.afterDecode(batch, out.decode);
  }

  private prefillInputs(chunks: PromptChunk[]) {
    return chunks.map((c) => ({ sequence: c.s.model!, tokens: c.tokens, greedy: c.s.sampler.greedy }));
  }

  private decodeInputs(batch: SequenceState[]) {
    return batch.map((s) => ({ sequence: s.model!, token: s.pendingToken!, greedy: s.sampler.greedy }));
  }

  /** Books prefilled chunks; a sequence whose prompt is complete samples its first token. */
  private afterPrefill(chunks: PromptChunk[], logits: NextToken[]): number {
    let used = 0;
    chunks.forEach(({ s, tokens }, i) => {
      s.prefilled += tokens.length;
      used += tokens.length;
      this.options.metrics?.promptTokens.inc(this.options.metrics.label(), tokens.length);
      if (s.prefilled < s.request.promptTokens.length) return;
      try {
        this.accept(s, logits[i]!);
      } catch (error) {
        this.fail(s, error);
      }
    });
    return used;
  }

  private async decodeStep(batch: SequenceState[]): Promise<number> {
    if (batch.length === 0) return 0;
    this.totalDecodeSteps++;
    let logits: NextToken[];
    try {
      logits = await this.model.decode(this.decodeInputs(batch));
    } catch (error) {
      for (const s of batch) this.fail(s, error);
      return 0;
    }
    return this.afterDecode(batch, logits);
  }

  private afterDecode(batch: SequenceState[], logits: NextToken[]): number {
    batch.forEach((s, i) => {
      try {
        this.accept(s, logits[i]!);
      } catch (error) {
        this.fail(s, error);
      }
    });
    return batch.length;
  }

  /** Samples the next token from `logits` (or takes the model's argmax), emits it and decides whether the sequence ends. */
  private accept(s: SequenceState, logits: NextToken): void {
    if (s.cancelled || s.finished) return;
    const token = typeof logits === 'number' ? logits : s.sampler.sample(logits);
    s.sampler.accept(token);
    s.generated++;
    s.pendingToken = token;
    const now = performance.now();
    const m = this.options.metrics;
    if (s.firstToken === undefined) {
      s.firstToken = now;
      m?.timeToFirstToken.observe(m.label(), (now - s.arrival) / 1000);
      m?.prefillTime.observe(m.label(), (now - (s.admitted ?? s.arrival)) / 1000);
    } else m?.interTokenLatency.observe(m.label(), (now - (s.lastToken ?? now)) / 1000);
    s.lastToken = now;
    m?.generationTokens.inc(m.label());
    if (s.stopIds.has(token)) {
      s.events.push({ type: 'token', token, text: '' });
      this.finish(s, 'stop');
      return;
    }
    const { delta, stopped } = s.text.push(token);
    const contextFull = s.request.promptTokens.length + s.generated >= this.model.contextLength;
    const reason: FinishReason | undefined = stopped ? 'stop' : s.generated >= s.request.maxTokens || contextFull ? 'length' : undefined;
    // A sequence ending on length releases text held back for a possible stop string.
    const text = reason === 'length' ? delta + s.text.flush() : delta;
    if (s.request.blockOutput?.(s.output + text)) {
      this.finish(s, 'content_filter');
      return;
    }
    s.output += text;
    s.events.push({ type: 'token', token, text });
    if (reason) this.finish(s, reason);
  }

  private fail(s: SequenceState, error: unknown): void {
    if (s.finished) return;
    s.finished = true;
    this.release(s);
    this.options.metrics?.requestSuccess.inc(this.options.metrics.label({ finished_reason: 'error' }));
    s.events.fail(
      new ServingError('generation failed inside the model', { code: 'internal', context: { status: 500, type: 'server_error' }, cause: error }),
    );
  }

  private finish(s: SequenceState, reason: FinishReason): void {
    if (s.finished) return;
    s.finished = true;
    this.release(s);
    const m = this.options.metrics;
    if (m) {
      const now = performance.now();
      m.requestSuccess.inc(m.label({ finished_reason: reason }));
      m.e2eLatency.observe(m.label(), (now - s.arrival) / 1000);
      if (s.firstToken !== undefined) m.decodeTime.observe(m.label(), (now - s.firstToken) / 1000);
      m.requestPromptTokens.observe(m.label(), s.request.promptTokens.length);
      m.requestGenerationTokens.observe(m.label(), s.generated);
    }
    s.events.push({ type: 'finish', reason, text: s.output, promptTokens: s.request.promptTokens.length, completionTokens: s.generated });
    s.events.end();
  }

  private release(s: SequenceState): void {
    s.cleanup();
    if (s.model) {
      s.model.dispose();
      s.model = undefined;
      this.reservedBytes -= s.reservedBytes;
    }
  }

  private updateGauges(): void {
    const m = this.options.metrics;
    if (!m) return;
    m.requestsRunning.set(m.label(), this.running.filter((s) => !s.finished).length);
    m.requestsWaiting.set(m.label(), this.waiting.length);
    m.kvCacheUsage.set(m.label(), this.reservedBytes / this.options.kvCacheBudgetBytes);
  }
}
