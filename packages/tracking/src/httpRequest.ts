import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TrackingError } from './errors.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A failure below HTTP. `phase` says whether the request may have reached the server. */
export class TransportError extends TrackingError {
  /** 'connect': never connected, so nothing was applied; 'sent': the server may have applied it. */
  get phase(): 'connect' | 'sent' {
    return this.context.phase as 'connect' | 'sent';
  }
}

export interface HttpRequestOptions {
  url: URL;
  method: string;
  headers?: Record<string, string>;
  /** A buffer/string, or a factory for a fresh stream (called once per attempt). */
  body?: Buffer | string | (() => Readable);
  timeoutMs: number;
  agent?: http.Agent;
  /** Where a 2xx response body goes (downloads); other bodies are buffered. */
  sink?: () => Writable;
}

/** Agents with keep-alive and the TLS settings of the MLflow environment variables. */
export function createAgent(options: { https: boolean; insecureTls?: boolean; caCertPath?: string; clientCertPath?: string }): http.Agent {
  if (!options.https) return new http.Agent({ keepAlive: true, maxSockets: 8 });
  const cert = options.clientCertPath ? readFileSync(options.clientCertPath) : undefined;
  return new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    rejectUnauthorized: !options.insecureTls,
    ca: options.caCertPath ? readFileSync(options.caCertPath) : undefined,
    cert,
    key: cert,
  });
}

/** One HTTP exchange on node:http(s); no retries (see RestTransport). */
export function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const lib = options.url.protocol === 'https:' ? https : http;
  return new Promise<HttpResponse>((resolve, reject) => {
    let connected = false;
    let settled = false;
    const fail = (error: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const phase = connected ? 'sent' : 'connect';
      reject(
        new TransportError(`${options.method} ${options.url.pathname}: ${error.message}`, {
          code: 'NETWORK_ERROR',
          context: { phase, endpoint: options.url.pathname, error_code: error.code ?? 'NETWORK_ERROR' },
          cause: error,
        }),
      );
    };
    const req = lib.request(options.url, { method: options.method, headers: options.headers, agent: options.agent });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timed out after ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })), options.timeoutMs);
    req.on('socket', (socket) => {
      const mark = () => {
        connected = true;
      };
      if ((socket as { connecting?: boolean }).connecting) socket.once('connect', mark);
      else mark();
    });
    req.on('error', fail);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const done = (body: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, headers: res.headers, body });
      };
      if (options.sink && status >= 200 && status < 300) {
        pipeline(res, options.sink()).then(() => done(Buffer.alloc(0)), fail);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(Buffer.concat(chunks)));
      res.on('error', fail);
    });
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body(), req).catch(fail);
  });
}
