/**
 * A loopback MLflow tracking server for tests: the REST contract of mlflow.md §1 (status
 * codes, JSON error bodies, log-batch limits, Flask's HTML 404 for unknown routes, the
 * get-history max_results quirk, mlflow-artifacts) plus scripted faults (429 with
 * Retry-After, 5xx, dropped connections, apply-then-drop, a server that is down).
 * Listens on 127.0.0.1 only and refuses to serve more than `maxRequests` requests.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { matchesRunFilter, parseRunFilter } from '../src/runFilter.js';
import type { Run } from '../src/types.js';

type Json = Record<string, any>;

export interface Fault {
  /** Endpoint path suffix, e.g. 'runs/log-batch'. */
  endpoint: string;
  /** How many requests it hits (default 1). */
  times?: number;
  /** 'status': answer `status` without applying; 'drop': destroy the socket unapplied; 'hang': never answer; 'applyThenDrop'/'applyThenStatus': apply, then fail. */
  kind: 'status' | 'drop' | 'hang' | 'applyThenDrop' | 'applyThenStatus';
  status?: number;
  retryAfter?: string;
}

interface StoredRun {
  info: Json;
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Json[];
  inputs: Json[];
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const KEY = /^[/\w.\- :]*$/;
const decodeValue = (v: unknown): number => {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for metric`);
};
const encodeValue = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v);

export class FakeMlflowServer {
  readonly server: http.Server;
  port = 0;
  readonly requests: { method: string; path: string; query: URLSearchParams; body: string; headers: http.IncomingHttpHeaders }[] = [];
  readonly faults: Fault[] = [];
  readonly experiments = new Map<string, Json>();
  readonly runs = new Map<string, StoredRun>();
  readonly artifacts = new Map<string, Buffer>();
  readonly models = new Map<string, { meta: Json; versions: Json[]; aliases: Map<string, string> }>();
  maxRequests = 20_000;
  private readonly sockets = new Set<Socket>();
  private nextExperiment = 1;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.experiments.set('0', { experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', creation_time: 0, last_update_time: 0, tags: [] });
  }

  get uri(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Closes the listener and every open connection: clients now get ECONNREFUSED. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Starts listening again on the same port (after stop). */
  restart(): Promise<this> {
    return this.start(this.port);
  }

  count(endpoint: string): number {
    return this.requests.filter((r) => r.path.endsWith(endpoint)).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: body.toString('utf8'), headers: req.headers });
      if (this.requests.length > this.maxRequests) return this.send(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'request budget exhausted' });
      const faultIndex = this.faults.findIndex((f) => url.pathname.endsWith(f.endpoint));
      const fault = faultIndex >= 0 ? this.faults[faultIndex]! : undefined;
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) this.faults.splice(faultIndex, 1);
      }
      if (fault?.kind === 'drop') return void req.socket.destroy();
      // Never answers; stop() destroys the socket.
      if (fault?.kind === 'hang') return;
      if (fault?.kind === 'status') {
        const headers: Record<string, string> = fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {};
        return this.send(res, fault.status ?? 503, { error_code: fault.status === 429 ? 'REQUEST_LIMIT_EXCEEDED' : 'TEMPORARILY_UNAVAILABLE', message: 'injected' }, headers);
      }
      let status = 200;
      let reply: unknown;
      try {
        reply = this.route(req.method ?? 'GET', url, body, req.headers);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        status = error.status;
        reply = { error_code: error.code, message: error.message };
      }
      if (fault?.kind === 'applyThenDrop') return void req.socket.destroy();
      if (fault?.kind === 'applyThenStatus') return this.send(res, fault.status ?? 500, { error_code: 'INTERNAL_ERROR', message: 'injected after apply' });
      if (reply === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
        return void res.end('<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n');
      }
      if (Buffer.isBuffer(reply)) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        return void res.end(reply);
      }
      this.send(res, status, reply);
    });
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private route(method: string, url: URL, raw: Buffer, headers: http.IncomingHttpHeaders): unknown {
    const path = url.pathname;
    const artifactPrefix = '/api/2.0/mlflow-artifacts/artifacts';
    if (path.startsWith(artifactPrefix)) return this.artifactRoute(method, decodeURIComponent(path.slice(artifactPrefix.length).replace(/^\//, '')), url, raw);
    if (!path.startsWith('/api/2.0/mlflow/')) return undefined;
    const endpoint = path.slice('/api/2.0/mlflow/'.length);
    let body: Json = {};
    if (method === 'GET') {
      for (const key of new Set(url.searchParams.keys())) body[key] = url.searchParams.get(key);
    } else {
      if (!String(headers['content-type'] ?? '').startsWith('application/json')) throw new ApiError(400, 'BAD_REQUEST', 'Content-Type must be application/json');
      if (raw.length > 1_000_000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'request body too large');
      body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    }
    const handler = this.handlers[`${method} ${endpoint}`];
    return handler ? handler(body) : undefined;
  }

  private artifactRoute(method: string, path: string, url: URL, raw: Buffer): unknown {
    if (method === 'PUT') {
      this.artifacts.set(path, raw);
      return {};
    }
    if (method === 'GET' && path === '') {
      const dir = (url.searchParams.get('path') ?? '').replace(/\/+$/, '');
      const seen = new Map<string, Json>();
      for (const [key, data] of this.artifacts) {
        if (!key.startsWith(`${dir}/`)) continue;
        const [head, ...rest] = key.slice(dir.length + 1).split('/');
        seen.set(head!, rest.length > 0 ? { path: head, is_dir: true } : { path: head, is_dir: false, file_size: data.length });
      }
      return { files: [...seen.values()] };
    }
    if (method === 'GET') {
      const data = this.artifacts.get(path);
      if (!data) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `artifact ${path} not found`);
      return data;
    }
    return undefined;
  }

  private run(id: unknown): StoredRun {
    const run = this.runs.get(String(id));
    if (!run) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${id}' not found`);
    return run;
  }

  private checkKey(key: unknown): string {
    if (typeof key !== 'string' || key.length > 250 || !KEY.test(key)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid key ${JSON.stringify(key)}`);
    return key;
  }

  private runJson(run: StoredRun): Json {
    const latest = new Map<string, Json>();
    for (const m of run.metrics) {
      const cur = latest.get(m.key);
      if (!cur || m.step > cur.step || (m.step === cur.step && m.timestamp >= cur.timestamp)) latest.set(m.key, m);
    }
    const pairs = (map: Map<string, string>) => [...map].map(([key, value]) => ({ key, value }));
    return {
      info: run.info,
      data: { metrics: [...latest.values()].map((m) => ({ ...m, value: encodeValue(m.value) })), params: pairs(run.params), tags: pairs(run.tags) },
      inputs: { dataset_inputs: run.inputs },
    };
  }

  private asRun(run: StoredRun): Run {
    return {
      info: { runId: run.info.run_id, runName: run.info.run_name, experimentId: run.info.experiment_id, userId: run.info.user_id, status: run.info.status, startTime: run.info.start_time, endTime: run.info.end_time ?? null, artifactUri: run.info.artifact_uri, lifecycleStage: 'active' },
      data: { metrics: run.metrics as never, params: Object.fromEntries(run.params), tags: Object.fromEntries(run.tags) },
      inputs: [],
    };
  }

  private readonly handlers: Record<string, (b: Json) => unknown> = {
    'GET experiments/get-by-name': (b) => {
      const e = [...this.experiments.values()].find((x) => x.name === b.experiment_name);
      if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${b.experiment_name}'`);
      return { experiment: e };
    },
    'GET experiments/get': (b) => {
      const e = this.experiments.get(String(b.experiment_id));
      if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No experiment ${b.experiment_id}`);
      return { experiment: e };
    },
    'POST experiments/create': (b) => {
      if (typeof b.name !== 'string' || b.name === '') throw new ApiError(400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'name'");
      if ([...this.experiments.values()].some((x) => x.name === b.name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment '${b.name}' already exists.`);
      const id = String(this.nextExperiment++);
      this.experiments.set(id, { experiment_id: id, name: b.name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active', creation_time: Date.now(), last_update_time: Date.now(), tags: b.tags ?? [] });
      return { experiment_id: id };
    },
    'POST experiments/search': (b) => {
      const all = [...this.experiments.values()];
      const max = Number(b.max_results ?? 1000);
      const start = Number(b.page_token ?? 0);
      return { experiments: all.slice(start, start + max), next_page_token: start + max < all.length ? String(start + max) : undefined };
    },
    'POST runs/create': (b) => {
      const exp = this.experiments.get(String(b.experiment_id));
      if (!exp) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No experiment ${b.experiment_id}`);
      const tags = new Map<string, string>((b.tags ?? []).map((t: Json) => [t.key, t.value]));
      if (b.run_name && tags.has('mlflow.runName') && tags.get('mlflow.runName') !== b.run_name) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'run_name and mlflow.runName differ');
      const runId = randomUUID().replace(/-/g, '');
      const name = b.run_name ?? tags.get('mlflow.runName') ?? 'run';
      tags.set('mlflow.runName', name);
      const info = { run_id: runId, run_uuid: runId, run_name: name, experiment_id: exp.experiment_id, user_id: b.user_id ?? '', status: 'RUNNING', start_time: Number(b.start_time), artifact_uri: `mlflow-artifacts:/${exp.experiment_id}/${runId}/artifacts`, lifecycle_stage: 'active' };
      this.runs.set(runId, { info, params: new Map(), tags, metrics: [], inputs: [] });
      return { run: this.runJson(this.runs.get(runId)!) };
    },
    'POST runs/update': (b) => {
      const run = this.run(b.run_id);
      if (b.status) run.info.status = b.status;
      if (b.end_time !== undefined) run.info.end_time = Number(b.end_time);
      return { run_info: run.info };
    },
    'GET runs/get': (b) => ({ run: this.runJson(this.run(b.run_id)) }),
    'POST runs/search': (b) => {
      const clauses = parseRunFilter(b.filter);
      const ids = (b.experiment_ids ?? []).map(String);
      const all = [...this.runs.values()].filter((r) => ids.includes(r.info.experiment_id) && matchesRunFilter(this.asRun(r), clauses));
      const max = Number(b.max_results ?? 1000);
      const start = Number(b.page_token ?? 0);
      return { runs: all.slice(start, start + max).map((r) => this.runJson(r)), next_page_token: start + max < all.length ? String(start + max) : undefined };
    },
    'POST runs/log-batch': (b) => {
      const run = this.run(b.run_id);
      const metrics: Json[] = b.metrics ?? [];
      const params: Json[] = b.params ?? [];
      const tags: Json[] = b.tags ?? [];
      if (metrics.length > 1000 || params.length > 100 || tags.length > 100 || metrics.length + params.length + tags.length > 1000) {
        throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `A batch logging request can contain at most 1000 metrics, 100 params, 100 tags and 1000 entities; got ${metrics.length}/${params.length}/${tags.length}`);
      }
      if (new Set(params.map((p) => p.key)).size !== params.length) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Duplicate parameter keys have been submitted');
      for (const p of params) {
        this.checkKey(p.key);
        const value = String(p.value ?? '');
        if (run.params.has(p.key) && run.params.get(p.key) !== value) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Changing param values is not allowed. Param with key='${p.key}'`);
      }
      const decoded = metrics.map((m) => {
        this.checkKey(m.key);
        if (m.timestamp === undefined) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing timestamp for metric ${m.key}`);
        return { key: m.key, value: decodeValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) };
      });
      for (const p of params) run.params.set(p.key, String(p.value ?? ''));
      run.metrics.push(...decoded);
      for (const t of tags) run.tags.set(this.checkKey(t.key), String(t.value ?? ''));
      return {};
    },
    'POST runs/log-metric': (b) => {
      const run = this.run(b.run_id);
      if (b.timestamp === undefined) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing timestamp for metric ${b.key}`);
      run.metrics.push({ key: this.checkKey(b.key), value: decodeValue(b.value), timestamp: Number(b.timestamp), step: Number(b.step ?? 0) });
      return {};
    },
    'POST runs/log-inputs': (b) => {
      const run = this.run(b.run_id);
      for (const d of b.datasets ?? []) {
        if (!d.dataset?.name || !d.dataset?.digest || !d.dataset?.source_type || d.dataset?.source === undefined) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'dataset name, digest, source_type and source are required');
        run.inputs.push(d);
      }
      return {};
    },
    'GET metrics/get-history': (b) => {
      const run = this.run(b.run_id);
      // The real server reads an omitted max_results as 0: no metrics, but a page token.
      const max = Number(b.max_results ?? 0);
      const start = Number(b.page_token ?? 0);
      const all = run.metrics.filter((m) => m.key === b.metric_key);
      const page = all.slice(start, start + max).map((m) => ({ ...m, value: encodeValue(m.value) }));
      return { metrics: page, next_page_token: start + max < all.length || max === 0 ? String(start + max) : undefined };
    },
    'POST registered-models/create': (b) => {
      if (this.models.has(b.name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${b.name}) already exists.`);
      const meta = { name: b.name, creation_timestamp: Date.now(), last_updated_timestamp: Date.now() };
      this.models.set(b.name, { meta, versions: [], aliases: new Map() });
      return { registered_model: meta };
    },
    'GET registered-models/get': (b) => {
      const m = this.models.get(b.name);
      if (!m) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${b.name} not found`);
      return { registered_model: { ...m.meta, aliases: [...m.aliases].map(([alias, version]) => ({ alias, version })) } };
    },
    'POST model-versions/create': (b) => {
      const m = this.models.get(b.name);
      if (!m) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${b.name} not found`);
      const v = { name: b.name, version: String(m.versions.length + 1), source: b.source, run_id: b.run_id, status: 'READY', creation_timestamp: Date.now() };
      m.versions.push(v);
      return { model_version: v };
    },
    'GET model-versions/get': (b) => {
      const v = this.models.get(b.name)?.versions.find((x) => x.version === String(b.version));
      if (!v) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${b.name}, version=${b.version}) not found`);
      return { model_version: { ...v, aliases: [...this.models.get(b.name)!.aliases].filter(([, ver]) => ver === v.version).map(([a]) => a) } };
    },
    'POST registered-models/alias': (b) => {
      const m = this.models.get(b.name);
      if (!m?.versions.some((v) => v.version === String(b.version))) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', 'no such model version');
      m.aliases.set(b.alias, String(b.version));
      return {};
    },
    'GET registered-models/alias': (b) => {
      const version = this.models.get(b.name)?.aliases.get(b.alias);
      if (!version) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `alias ${b.alias} not found`);
      return this.handlers['GET model-versions/get']!({ name: b.name, version });
    },
    'DELETE registered-models/alias': (b) => {
      this.models.get(b.name)?.aliases.delete(b.alias);
      return {};
    },
  };
}
