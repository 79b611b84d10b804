import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeDouble } from './encoding.js';
import type { ConnectionOptions } from './env.js';
import { isApiError, TrackingError } from './errors.js';
import { cleanArtifactPath, copyToLocalArtifacts, filesToUpload, listLocalArtifacts, localArtifactDir, mimeType } from './artifactPaths.js';
import { LIMITS } from './limits.js';
import { RestTransport } from './restTransport.js';
import type { CreateRunOptions, SearchRunsOptions, TrackingStore } from './store.js';
import type { ArtifactFile, Dataset, Experiment, LogBatch, Metric, ModelVersion, RegisteredModel, Run, RunInfo, RunStatus } from './types.js';
import {
  experimentFromWire,
  metricFromWire,
  modelVersionFromWire,
  recordToPairs,
  registeredModelFromWire,
  runFromWire,
  runInfoFromWire,
} from './wire.js';

type Json = Record<string, any>;

/** Tag we add to each created run so an ambiguous `runs/create` can be checked without duplicating it. */
export const RUN_TOKEN_TAG = 'deepline.runToken';
/** How often an ambiguous write is checked and resent before giving up. */
const MAX_RECONCILE_ROUNDS = 5;

const sameMetric = (a: Metric, b: Metric) =>
  a.key === b.key && a.timestamp === b.timestamp && a.step === b.step && (a.value === b.value || (Number.isNaN(a.value) && Number.isNaN(b.value)));

/** The MLflow REST API as a TrackingStore (see mlflow.md §1). */
export class RestStore implements TrackingStore {
  readonly kind = 'rest' as const;
  readonly uri: string;
  readonly transport: RestTransport;

  constructor(connection: ConnectionOptions) {
    this.transport = new RestTransport(connection);
    this.uri = this.transport.baseUri;
  }

  close(): void {
    this.transport.close();
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.transport.call<Json>('experiments/get-by-name', { method: 'GET', query: { experiment_name: name }, idempotent: true });
      return experimentFromWire(r.experiment);
    } catch (error) {
      if (isApiError(error, 'RESOURCE_DOES_NOT_EXIST')) return undefined;
      throw error;
    }
  }

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    try {
      const r = await this.transport.call<Json>('experiments/create', { method: 'POST', json: { name, tags: recordToPairs(tags) }, idempotent: true });
      return String(r.experiment_id);
    } catch (error) {
      // A retried create whose first attempt landed, or another process racing us.
      if (!isApiError(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
      const existing = await this.getExperimentByName(name);
      if (!existing) throw error;
      return existing.experimentId;
    }
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const r = await this.transport.call<Json>('experiments/get', { method: 'GET', query: { experiment_id: experimentId }, idempotent: true });
    return experimentFromWire(r.experiment);
  }

  async searchExperiments(options: { maxResults?: number } = {}): Promise<Experiment[]> {
    const want = options.maxResults ?? Number.POSITIVE_INFINITY;
    const out: Experiment[] = [];
    let pageToken: string | undefined;
    do {
      const max_results = Math.min(LIMITS.searchMaxResults, want - out.length);
      const r = await this.transport.call<Json>('experiments/search', { method: 'POST', json: { max_results, page_token: pageToken, view_type: 'ACTIVE_ONLY' }, idempotent: true });
      out.push(...(r.experiments ?? []).map(experimentFromWire));
      pageToken = r.next_page_token || undefined;
    } while (pageToken && out.length < want);
    return out;
  }

  async createRun(options: CreateRunOptions): Promise<RunInfo> {
    const token = randomUUID();
    const tags = { ...options.tags, [RUN_TOKEN_TAG]: token };
    const body = {
      experiment_id: options.experimentId,
      user_id: options.userId,
      run_name: options.runName,
      start_time: options.startTime,
      tags: recordToPairs(tags),
    };
    for (let round = 0; ; round++) {
      try {
        const r = await this.transport.call<Json>('runs/create', { method: 'POST', json: body, idempotent: false });
        return runInfoFromWire(r.run.info);
      } catch (error) {
        if (!(error instanceof TrackingError) || error.code !== 'AMBIGUOUS_WRITE' || round >= MAX_RECONCILE_ROUNDS) throw error;
        // Did the first attempt create the run? Look for our token before creating again.
        const found = await this.searchRuns({ experimentIds: [options.experimentId], filter: `tags.\`${RUN_TOKEN_TAG}\` = '${token}'`, maxResults: 1 });
        if (found[0]) return found[0].info;
      }
    }
  }

  async updateRun(runId: string, status: RunStatus, endTime: number | null): Promise<void> {
    await this.transport.call('runs/update', { method: 'POST', json: { run_id: runId, status, end_time: endTime ?? undefined }, idempotent: true });
  }

  async getRun(runId: string): Promise<Run> {
    const r = await this.transport.call<Json>('runs/get', { method: 'GET', query: { run_id: runId }, idempotent: true });
    return runFromWire(r.run);
  }

  async searchRuns(options: SearchRunsOptions): Promise<Run[]> {
    const want = options.maxResults ?? 1000;
    const out: Run[] = [];
    let pageToken: string | undefined;
    do {
      const json = {
        experiment_ids: options.experimentIds,
        filter: options.filter,
        run_view_type: 'ACTIVE_ONLY',
        max_results: Math.min(LIMITS.searchMaxResults, want - out.length),
        order_by: options.orderBy,
        page_token: pageToken,
      };
      const r = await this.transport.call<Json>('runs/search', { method: 'POST', json, idempotent: true });
      out.push(...(r.runs ?? []).map(runFromWire));
      pageToken = r.next_page_token || undefined;
    } while (pageToken && out.length < want);
    return out;
  }

  /**
   * Sends one batch. Params and tags are idempotent; metric points are not, so when the
   * outcome of an attempt is unknown we read the history back and resend only the points
   * that did not land (no duplicates, nothing lost).
   */
  async logBatch(runId: string, batch: LogBatch, options: { verifyFirst?: boolean } = {}): Promise<void> {
    let metrics = options.verifyFirst && batch.metrics.length > 0 ? await this.missingMetrics(runId, batch.metrics) : batch.metrics;
    for (let round = 0; ; round++) {
      const json = {
        run_id: runId,
        metrics: metrics.map((m) => ({ key: m.key, value: encodeDouble(m.value), timestamp: m.timestamp, step: m.step })),
        params: recordToPairs(batch.params),
        tags: recordToPairs(batch.tags),
      };
      try {
        await this.transport.call('runs/log-batch', { method: 'POST', json, idempotent: metrics.length === 0 });
        return;
      } catch (error) {
        if (!(error instanceof TrackingError) || error.code !== 'AMBIGUOUS_WRITE' || round >= MAX_RECONCILE_ROUNDS) throw error;
        metrics = await this.missingMetrics(runId, metrics);
      }
    }
  }

  private async missingMetrics(runId: string, metrics: Metric[]): Promise<Metric[]> {
    const keys = [...new Set(metrics.map((m) => m.key))];
    const landed = new Map<string, Metric[]>();
    for (const key of keys) landed.set(key, await this.getMetricHistory(runId, key));
    return metrics.filter((m) => !landed.get(m.key)!.some((l) => sameMetric(l, m)));
  }

  async logInputs(runId: string, datasets: { dataset: Dataset; tags: Record<string, string> }[]): Promise<void> {
    const json = {
      run_id: runId,
      datasets: datasets.map(({ dataset, tags }) => ({
        tags: recordToPairs(tags),
        dataset: { name: dataset.name, digest: dataset.digest, source_type: dataset.sourceType, source: dataset.source, schema: dataset.schema, profile: dataset.profile },
      })),
    };
    await this.transport.call('runs/log-inputs', { method: 'POST', json, idempotent: true });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      // max_results must always be sent: omitted, the server reads 0 and returns nothing.
      const query = { run_id: runId, metric_key: key, max_results: LIMITS.historyPageSize, page_token: pageToken };
      const r = await this.transport.call<Json>('metrics/get-history', { method: 'GET', query, idempotent: true });
      out.push(...(r.metrics ?? []).map(metricFromWire));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /** `mlflow-artifacts:/<exp>/<run>/artifacts` → the proxied path under /api/2.0/mlflow-artifacts/artifacts. */
  private proxiedRoot(run: RunInfo): string | undefined {
    const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(run.artifactUri);
    return match ? match[1]!.replace(/\/+$/, '') : undefined;
  }

  private artifactRoot(run: RunInfo): { proxied: string } | { local: string } {
    const proxied = this.proxiedRoot(run);
    if (proxied !== undefined) return { proxied };
    if (run.artifactUri.startsWith('file:')) return { local: localArtifactDir(run.artifactUri) };
    throw new TrackingError(
      `run ${run.runId} stores artifacts at '${run.artifactUri}', which this client cannot write; start the server with artifact proxying (the default, --serve-artifacts)`,
      { code: 'UNSUPPORTED_ARTIFACT_URI', context: { field: 'artifact_uri', error_code: 'UNSUPPORTED_ARTIFACT_URI' } },
    );
  }

  private artifactUrlPath(root: string, relativePath: string): string {
    const parts = [...root.split('/'), ...relativePath.split('/')].filter((p) => p !== '');
    return `api/2.0/mlflow-artifacts/artifacts/${parts.map(encodeURIComponent).join('/')}`;
  }

  async logArtifact(run: RunInfo, localPath: string, artifactPath?: string): Promise<void> {
    const target = cleanArtifactPath(artifactPath);
    const root = this.artifactRoot(run);
    if ('local' in root) return copyToLocalArtifacts(root.local, localPath, target);
    for (const { local, remote } of await filesToUpload(localPath, target)) {
      // PUT overwrites the same object, so resending it is safe.
      await this.transport.request(this.artifactUrlPath(root.proxied, remote), {
        method: 'PUT',
        body: () => createReadStream(local),
        contentType: mimeType(local),
        idempotent: true,
      });
    }
  }

  async listArtifacts(run: RunInfo, path?: string): Promise<ArtifactFile[]> {
    const sub = cleanArtifactPath(path, 'path');
    const root = this.artifactRoot(run);
    if ('local' in root) return listLocalArtifacts(root.local, sub);
    const response = await this.transport.request('api/2.0/mlflow-artifacts/artifacts', {
      method: 'GET',
      query: { path: [root.proxied, sub].filter((p) => p !== '').join('/') },
      idempotent: true,
    });
    const r = JSON.parse(response.body.toString('utf8') || '{}') as Json;
    return (r.files ?? []).map((f: Json) => ({
      // The proxy answers basenames; MLflow's tracking API answers paths from the run root.
      path: sub === '' ? String(f.path) : `${sub}/${String(f.path).split('/').pop()}`,
      isDir: Boolean(f.is_dir),
      fileSize: f.file_size === undefined ? undefined : Number(f.file_size),
    }));
  }

  async downloadArtifact(run: RunInfo, path: string, destination: string): Promise<void> {
    const rel = cleanArtifactPath(path, 'path');
    const root = this.artifactRoot(run);
    await mkdir(dirname(destination), { recursive: true });
    if ('local' in root) {
      const { cp } = await import('node:fs/promises');
      await cp(join(root.local, ...rel.split('/')), destination, { recursive: true });
      return;
    }
    await this.transport.request(this.artifactUrlPath(root.proxied, rel), { method: 'GET', idempotent: true, sink: () => createWriteStream(destination) });
  }

  async createRegisteredModel(name: string): Promise<RegisteredModel> {
    try {
      const r = await this.transport.call<Json>('registered-models/create', { method: 'POST', json: { name }, idempotent: true });
      return registeredModelFromWire(r.registered_model);
    } catch (error) {
      if (isApiError(error, 'RESOURCE_ALREADY_EXISTS')) return this.getRegisteredModel(name);
      throw error;
    }
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const r = await this.transport.call<Json>('registered-models/get', { method: 'GET', query: { name }, idempotent: true });
    return registeredModelFromWire(r.registered_model);
  }

  async createModelVersion(options: { name: string; source: string; runId?: string }): Promise<ModelVersion> {
    const json = { name: options.name, source: options.source, run_id: options.runId };
    const r = await this.transport.call<Json>('model-versions/create', { method: 'POST', json, idempotent: false });
    return modelVersionFromWire(r.model_version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const r = await this.transport.call<Json>('model-versions/get', { method: 'GET', query: { name, version }, idempotent: true });
    return modelVersionFromWire(r.model_version);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.transport.call('registered-models/alias', { method: 'POST', json: { name, alias, version }, idempotent: true });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const r = await this.transport.call<Json>('registered-models/alias', { method: 'GET', query: { name, alias }, idempotent: true });
    return modelVersionFromWire(r.model_version);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.transport.call('registered-models/alias', { method: 'DELETE', json: { name, alias }, idempotent: true });
  }
}
