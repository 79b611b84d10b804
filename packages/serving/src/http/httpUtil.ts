import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServingError, invalidRequest } from '../errors.js';

/** Reads a request body up to `limit` bytes; larger bodies are a 400 (the socket is drained, not parsed). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(bodyTooLarge(limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(bodyTooLarge(limit));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function bodyTooLarge(limit: number): ServingError {
  return new ServingError(`request body exceeds the limit of ${limit} bytes`, { code: 'body_too_large', context: { status: 400, type: 'invalid_request_error', param: null } });
}

/** Parses JSON, turning syntax errors into a 400 that quotes the parser's complaint. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw invalidRequest('request body is empty; expected a JSON object', null);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalidRequest(`request body is not valid JSON: ${(error as Error).message}`, null, 'invalid_json');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Any thrown value as a ServingError; unknown faults become an opaque 500 (no stack, no internals). */
export function toServingError(error: unknown): ServingError {
  if (error instanceof ServingError) return error;
  return new ServingError('internal server error', { code: 'internal', context: { status: 500, type: 'server_error' }, cause: error });
}

/** OpenAI's error envelope: `{error: {message, type, param, code}}`. */
export function sendOpenAiError(res: ServerResponse, error: ServingError): void {
  const headers: Record<string, string> = {};
  if (error.context.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.context.retryAfterSeconds);
  sendJson(res, error.context.status, { error: { message: error.message, type: error.context.type, param: error.context.param ?? null, code: error.code } }, headers);
}

/** Server-sent events writer; `closed` turns true once the client has gone away. */
export class SseWriter {
  closed = false;

  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    res.on('close', () => {
      this.closed = true;
    });
  }

  send(data: unknown): void {
    this.sendFrame(typeof data === 'string' ? data : JSON.stringify(data));
  }

  /** Sends an already serialised JSON payload as one event. */
  sendFrame(json: string): void {
    if (!this.closed) this.res.write(`data: ${json}\n\n`);
  }

  end(): void {
    if (!this.closed) {
      this.res.write('data: [DONE]\n\n');
      this.res.end();
    }
  }
}
