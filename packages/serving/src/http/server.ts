import { randomUUID, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, createLogger } from '@deepline/core';
import type { ResponseCache } from '../cache/responseCache.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import type { LanguageModel, TextTokenizer } from '../engine/languageModel.js';
import { ServingError } from '../errors.js';
import type { ContentFilter } from '../filters/contentFilter.js';
import { ServingMetrics } from '../metrics/servingMetrics.js';
import { sendJson, sendOpenAiError, toServingError } from './httpUtil.js';
import { handleChatCompletion, handleCompletion, modelCard } from './openaiRoutes.js';
import { handleTfPredict, tfModelStatus } from './tfServingRoutes.js';

/** A loaded model with its tokenizer, as served under `name`. */
export interface ServedModel {
  name: string;
  model: LanguageModel;
  tokenizer: TextTokenizer;
  /** Frees the model (called on close). */
  dispose?: () => void;
}

export interface ServingServerOptions {
  /** The model, or a promise of it: the server answers /health at once and /ready once it resolves. */
  model: ServedModel | Promise<ServedModel>;
  /** Require `Authorization: Bearer <apiKey>` on /v1 routes. */
  apiKey?: string;
  /** Largest accepted request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest prompt in tokens (default: the context length minus one). */
  maxPromptTokens?: number;
  /** A generation running longer is cancelled (default 120 s). */
  requestTimeoutMs?: number;
  /** Scheduler settings (batch size, KV budget, queue bound, prefill chunk). */
  engine?: Omit<EngineOptions, 'model' | 'decode' | 'metrics'>;
  /** Cache for deterministic non-streamed responses. */
  responseCache?: ResponseCache;
  filter?: ContentFilter;
  logger?: Logger;
}

/** What route handlers share. */
export interface RouteContext {
  served: ServedModel;
  engine: Engine;
  metrics: ServingMetrics;
  options: ServingServerOptions;
  maxPromptTokens: number;
}

/**
 * The HTTP front end: OpenAI-compatible and TF-Serving-compatible routes over one
 * continuous-batching engine, plus /health, /ready and /metrics.
 */
export class ServingServer {
  readonly server: Server;
  private served: ServedModel | undefined;
  private context: RouteContext | undefined;
  private loadError: unknown;
  private draining = false;
  private readonly logger: Logger;
  private readonly ready: Promise<void>;

  constructor(readonly options: ServingServerOptions) {
    this.logger = options.logger ?? createLogger({ level: 'warn' });
    // Idle keep-alive sockets outlive clients' own pools (undici: 4 s; load balancers: 60 s) so a
    // client never reuses a socket the server is closing at that moment ("fetch failed").
    this.server = createServer({ requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 }, (req, res) => {
      void this.handle(req, res);
    });
    this.ready = Promise.resolve(options.model).then(
      (served) => {
        this.served = served;
        const metrics = new ServingMetrics({ modelName: served.name });
        const engine = new Engine({ ...options.engine, model: served.model, decode: (ids) => served.tokenizer.decode(ids), metrics });
        this.context = { served, engine, metrics, options, maxPromptTokens: options.maxPromptTokens ?? served.model.contextLength - 1 };
      },
      (error) => {
        this.loadError = error;
        this.logger.error(`model failed to load: ${(error as Error).message}`);
      },
    );
  }

  /** Resolves once the model is loaded (rejects if loading failed). */
  async whenReady(): Promise<void> {
    await this.ready;
    if (this.loadError) throw this.loadError;
  }

  get engine(): Engine | undefined {
    return this.context?.engine;
  }

  get metrics(): ServingMetrics | undefined {
    return this.context?.metrics;
  }

  /** Starts listening; host defaults to 127.0.0.1, port 0 picks a free one. Returns the base URL. */
  listen(options: { port?: number; host?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        const address = this.server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  /**
   * Graceful shutdown: stop accepting connections, let in-flight requests finish (up to
   * `timeoutMs`, then cancel them), close the cache and free the model.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const engine = this.context?.engine;
    if (engine) {
      const timer = setTimeout(() => void engine.shutdown({ abort: true }), options.timeoutMs ?? 30_000);
      await engine.shutdown();
      clearTimeout(timer);
    }
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), 2_000);
    await closed;
    clearTimeout(force);
    await this.options.responseCache?.close();
    this.served?.dispose?.();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let route = 'other';
    try {
      if (path === '/health') {
        route = 'health';
        return sendJson(res, 200, { status: 'ok' });
      }
      if (path === '/ready') {
        route = 'ready';
        const ok = this.context !== undefined && !this.draining;
        return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : this.draining ? 'draining' : this.loadError ? 'failed' : 'loading' });
      }
      if (path === '/metrics') {
        route = 'metrics';
        const ctx = this.requireContext();
        const text = await ctx.metrics.render();
        res.writeHead(200, { 'content-type': ctx.metrics.contentType });
        return void res.end(text);
      }
      if (!path.startsWith('/v1/')) throw notFound(`no route for ${req.method} ${path}`);
      this.authorize(req);
      const ctx = this.requireContext();
      if (this.draining) throw new ServingError('server is shutting down', { code: 'shutting_down', context: { status: 503, type: 'server_error', retryAfterSeconds: 5 } });
      const tf = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?(?::(predict))?$/.exec(path);
      if (path === '/v1/completions') {
        route = 'completions';
        expectMethod(req, 'POST');
        return await handleCompletion(ctx, req, res);
      }
      if (path === '/v1/chat/completions') {
        route = 'chat_completions';
        expectMethod(req, 'POST');
        return await handleChatCompletion(ctx, req, res);
      }
      if (path === '/v1/models') {
        route = 'models';
        expectMethod(req, 'GET');
        return sendJson(res, 200, { object: 'list', data: [modelCard(ctx)] });
      }
      if (tf) {
        const name = decodeURIComponent(tf[1]!);
        route = tf[3] ? 'tf_predict' : 'tf_status';
        if (tf[3]) {
          expectMethod(req, 'POST');
          return await handleTfPredict(ctx, req, res, name, tf[2]);
        }
        expectMethod(req, 'GET');
        return tfModelStatus(ctx, res, name, tf[2]);
      }
      throw notFound(`no route for ${req.method} ${path}`);
    } catch (error) {
      const serving = toServingError(error);
      if (serving.context.status >= 500) this.logger.error(`${req.method} ${path}: ${(serving.cause as Error | undefined)?.stack ?? serving.message}`);
      if (route.startsWith('tf_')) sendJson(res, serving.context.status, { error: serving.message });
      else sendOpenAiError(res, serving);
    } finally {
      const m = this.context?.metrics;
      if (m) {
        const finish = () => m.httpRequests.inc(m.label({ route, status: String(res.statusCode) }));
        if (res.writableFinished) finish();
        else res.once('close', finish);
      }
    }
  }

  private requireContext(): RouteContext {
    if (this.context) return this.context;
    throw new ServingError(this.loadError ? 'the model failed to load' : 'the model is still loading', {
      code: 'model_not_ready',
      context: { status: 503, type: 'server_error', retryAfterSeconds: 2 },
    });
  }

  private authorize(req: IncomingMessage): void {
    const key = this.options.apiKey;
    if (!key) return;
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
    const expected = Buffer.from(key);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ServingError(header ? 'Incorrect API key provided.' : 'Missing API key: send "Authorization: Bearer <key>".', {
        code: 'invalid_api_key',
        context: { status: 401, type: 'invalid_request_error', param: null },
      });
    }
  }
}

function notFound(message: string): ServingError {
  return new ServingError(message, { code: 'not_found', context: { status: 404, type: 'invalid_request_error' } });
}

function expectMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) {
    throw new ServingError(`method ${req.method} is not allowed here; use ${method}`, { code: 'method_not_allowed', context: { status: 405, type: 'invalid_request_error' } });
  }
}

/** A short random id with OpenAI's prefix style (`cmpl-…`, `chatcmpl-…`). */
export function responseId(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, '')}`;
}
