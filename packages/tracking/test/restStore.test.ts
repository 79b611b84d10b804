import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MlflowApiError, TrackingError } from '../src/errors.js';
import { RestStore } from '../src/restStore.js';
import { FakeMlflowServer } from './fakeMlflowServer.js';

const FAST = { maxRetries: 3, backoffFactorMs: 5, backoffJitterMs: 0, timeoutMs: 2000 };

describe('RestStore against a loopback MLflow server', () => {
  let server: FakeMlflowServer;
  let store: RestStore;
  let tmp: string;

  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(() => removeDir(tmp));
  beforeEach(async () => {
    server = await new FakeMlflowServer().start();
    store = new RestStore({ uri: server.uri, retry: FAST });
  });
  afterEach(async () => {
    store.close();
    await server.stop();
  });

  async function newRun() {
    const experimentId = await store.createExperiment('exp');
    return store.createRun({ experimentId, runName: 'r1', startTime: 1_700_000_000_000, userId: 'alice', tags: { 'mlflow.source.type': 'LOCAL' } });
  }

  it('finds or creates experiments; duplicate create resolves to the existing id', async () => {
    expect(await store.getExperimentByName('exp')).toBeUndefined();
    const id = await store.createExperiment('exp', { team: 'x' });
    expect((await store.getExperimentByName('exp'))?.experimentId).toBe(id);
    // Second create answers 400 RESOURCE_ALREADY_EXISTS; the store resolves it by name.
    expect(await store.createExperiment('exp')).toBe(id);
    expect(server.requests.filter((r) => r.path.endsWith('experiments/create'))).toHaveLength(2);
    const all = await store.searchExperiments();
    expect(all.map((e) => e.name).sort()).toEqual(['Default', 'exp']);
    const post = server.requests.find((r) => r.method === 'POST')!;
    expect(post.headers['content-type']).toBe('application/json');
  });

  it('creates runs with run_name, user_id and tags; updates and reads them back', async () => {
    const info = await newRun();
    expect(info).toMatchObject({ runName: 'r1', userId: 'alice', status: 'RUNNING', startTime: 1_700_000_000_000 });
    expect(info.artifactUri).toBe(`mlflow-artifacts:/${info.experimentId}/${info.runId}/artifacts`);
    const body = JSON.parse(server.requests.find((r) => r.path.endsWith('runs/create'))!.body);
    expect(body).toMatchObject({ run_name: 'r1', user_id: 'alice', start_time: 1_700_000_000_000 });
    await store.updateRun(info.runId, 'FINISHED', 1_700_000_100_000);
    const run = await store.getRun(info.runId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.endTime).toBe(1_700_000_100_000);
    expect(run.data.tags['mlflow.runName']).toBe('r1');
    const found = await store.searchRuns({ experimentIds: [info.experimentId], filter: "tags.`mlflow.runName` = 'r1'" });
    expect(found.map((r) => r.info.runId)).toEqual([info.runId]);
  });

  it('sends non-finite metrics as strings and reads them back; history always sends max_results and pages', async () => {
    const info = await newRun();
    const metrics = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5].map((value, step) => ({ key: 'loss', value, timestamp: 1000 + step, step }));
    await store.logBatch(info.runId, { metrics, params: {}, tags: {} });
    const sent = JSON.parse(server.requests.find((r) => r.path.endsWith('log-batch'))!.body);
    expect(sent.metrics.map((m: { value: unknown }) => m.value)).toEqual(['NaN', 'Infinity', '-Infinity', 0.5]);
    const history = await store.getMetricHistory(info.runId, 'loss');
    expect(history.map((m) => m.value)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5]);
    const get = server.requests.find((r) => r.path.endsWith('get-history'))!;
    expect(get.method).toBe('GET');
    expect(get.query.get('max_results')).toBe('25000');
    expect(get.query.get('metric_key')).toBe('loss');
  });

  it('maps Flask HTML 404s, JSON errors and final 4xx to MlflowApiError with error_code, without retrying 4xx', async () => {
    const bad = new RestStore({ uri: `${server.uri}/not-mlflow`, retry: FAST });
    const error = await bad.getExperiment('1').catch((e) => e);
    bad.close();
    expect(error).toBeInstanceOf(MlflowApiError);
    expect(error.status).toBe(404);
    expect(error.error_code).toBe('ENDPOINT_NOT_FOUND');
    expect(error.message).toContain('Not Found');
    const missing = await store.getRun('0123456789abcdef0123456789abcdef').catch((e) => e);
    expect(missing.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const info = await newRun();
    await store.logBatch(info.runId, { metrics: [], params: { lr: '0.1' }, tags: {} });
    const before = server.count('log-batch');
    const changed = await store.logBatch(info.runId, { metrics: [], params: { lr: '0.2' }, tags: {} }).catch((e) => e);
    expect(changed).toBeInstanceOf(MlflowApiError);
    expect(changed.status).toBe(400);
    expect(changed.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(server.count('log-batch') - before).toBe(1);
  });

  it('honours Retry-After on 429 and retries 5xx on idempotent calls', async () => {
    const info = await newRun();
    server.faults.push({ endpoint: 'runs/get', kind: 'status', status: 429, retryAfter: '1' });
    const start = Date.now();
    await store.getRun(info.runId);
    expect(Date.now() - start).toBeGreaterThanOrEqual(950);
    expect(server.count('runs/get')).toBe(2);
    server.faults.push({ endpoint: 'runs/get', kind: 'status', status: 502, times: 2 });
    await store.getRun(info.runId);
    expect(server.count('runs/get')).toBe(5);
    server.faults.push({ endpoint: 'runs/get', kind: 'status', status: 503, times: 10 });
    const exhausted = await store.getRun(info.runId).catch((e) => e);
    expect(exhausted).toBeInstanceOf(MlflowApiError);
    expect(exhausted.status).toBe(503);
    expect(server.count('runs/get')).toBe(5 + FAST.maxRetries + 1);
    server.faults.length = 0;
  });

  it('times out a request that gets no answer, retries it, then reports the server unreachable', async () => {
    const info = await newRun();
    const slow = new RestStore({ uri: server.uri, retry: { ...FAST, maxRetries: 1, timeoutMs: 200 } });
    server.faults.push({ endpoint: 'runs/get', kind: 'hang', times: 2 });
    const start = Date.now();
    const error = await slow.getRun(info.runId).catch((e) => e);
    slow.close();
    expect(Date.now() - start).toBeGreaterThanOrEqual(390);
    expect(error).toBeInstanceOf(TrackingError);
    expect(error.error_code).toBe('UNREACHABLE');
    expect(server.count('runs/get')).toBe(2);
    // A hung log-batch may have been applied: it is checked, not blindly resent.
    server.faults.push({ endpoint: 'runs/log-batch', kind: 'hang' });
    const fast = new RestStore({ uri: server.uri, retry: { ...FAST, timeoutMs: 200 } });
    await fast.logBatch(info.runId, { metrics: [{ key: 'x', value: 1, timestamp: 1, step: 1 }], params: {}, tags: {} });
    fast.close();
    expect(server.runs.get(info.runId)!.metrics).toHaveLength(1);
    expect(server.count('get-history')).toBe(1);
  });

  it('never duplicates metric points when a log-batch is applied and the connection then drops', async () => {
    const info = await newRun();
    server.faults.push({ endpoint: 'runs/log-batch', kind: 'applyThenDrop' });
    const metrics = Array.from({ length: 5 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 5000 + i, step: i }));
    await store.logBatch(info.runId, { metrics, params: { seed: '7' }, tags: {} });
    expect(server.runs.get(info.runId)!.metrics).toHaveLength(5);
    // 500 after applying (partial writes are possible): checked, not resent blindly.
    server.faults.push({ endpoint: 'runs/log-batch', kind: 'applyThenStatus', status: 500 });
    const more = Array.from({ length: 3 }, (_, i) => ({ key: 'loss', value: i, timestamp: 9000 + i, step: 10 + i }));
    await store.logBatch(info.runId, { metrics: more, params: {}, tags: {} });
    expect(server.runs.get(info.runId)!.metrics).toHaveLength(8);
    // Dropped before applying: the points are resent exactly once.
    server.faults.push({ endpoint: 'runs/log-batch', kind: 'drop' });
    await store.logBatch(info.runId, { metrics: [{ key: 'acc', value: 0.9, timestamp: 1, step: 1 }], params: {}, tags: {} });
    expect(server.runs.get(info.runId)!.metrics.filter((m) => m.key === 'acc')).toHaveLength(1);
  });

  it('does not create a second run when runs/create is applied but the reply is lost', async () => {
    const experimentId = await store.createExperiment('exp');
    server.faults.push({ endpoint: 'runs/create', kind: 'applyThenDrop' });
    const info = await store.createRun({ experimentId, runName: 'once', startTime: 1, userId: 'u', tags: {} });
    expect(server.runs.size).toBe(1);
    expect(server.runs.has(info.runId)).toBe(true);
    // 429 means "not applied": the create is simply resent.
    server.faults.push({ endpoint: 'runs/create', kind: 'status', status: 429, retryAfter: '0' });
    await store.createRun({ experimentId, runName: 'twice', startTime: 1, userId: 'u', tags: {} });
    expect(server.runs.size).toBe(2);
  });

  it('uploads, lists and downloads artifacts through mlflow-artifacts', async () => {
    const info = await newRun();
    const src = join(tmp, 'model');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'config.json'), '{"a":1}');
    await writeFile(join(src, 'sub', 'w.bin'), Buffer.from([1, 2, 3]));
    await store.logArtifact(info, src, 'checkpoints');
    const put = server.requests.find((r) => r.method === 'PUT' && r.path.endsWith('config.json'))!;
    expect(put.path).toBe(`/api/2.0/mlflow-artifacts/artifacts/${info.experimentId}/${info.runId}/artifacts/checkpoints/model/config.json`);
    expect(put.headers['content-type']).toBe('application/json');
    expect(await store.listArtifacts(info, 'checkpoints/model')).toEqual([
      { path: 'checkpoints/model/config.json', isDir: false, fileSize: 7 },
      { path: 'checkpoints/model/sub', isDir: true, fileSize: undefined },
    ]);
    const dest = join(tmp, 'down', 'w.bin');
    await store.downloadArtifact(info, 'checkpoints/model/sub/w.bin', dest);
    expect([...(await readFile(dest))]).toEqual([1, 2, 3]);
    const traversal = await store.logArtifact(info, src, '../escape').catch((e) => e);
    expect(traversal).toBeInstanceOf(TrackingError);
    expect(traversal.code).toBe('INVALID_PATH');
  });

  it('registers models, versions and aliases', async () => {
    const info = await newRun();
    await store.createRegisteredModel('tiny');
    await store.createRegisteredModel('tiny');
    const v1 = await store.createModelVersion({ name: 'tiny', source: `${info.artifactUri}/model`, runId: info.runId });
    const v2 = await store.createModelVersion({ name: 'tiny', source: `${info.artifactUri}/model2`, runId: info.runId });
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    await store.setAlias('tiny', 'champion', '2');
    expect((await store.getModelVersionByAlias('tiny', 'champion')).source).toBe(`${info.artifactUri}/model2`);
    expect((await store.getRegisteredModel('tiny')).aliases).toEqual({ champion: '2' });
    await store.deleteAlias('tiny', 'champion');
    expect((await store.getModelVersionByAlias('tiny', 'champion').catch((e) => e)).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('logs dataset inputs', async () => {
    const info = await newRun();
    await store.logInputs(info.runId, [{ dataset: { name: 'tinystories', digest: 'abc123', sourceType: 'local', source: '{"uri":"data/train.bin"}' }, tags: { 'mlflow.data.context': 'training' } }]);
    const run = await store.getRun(info.runId);
    expect(run.inputs).toEqual([{ dataset: { name: 'tinystories', digest: 'abc123', sourceType: 'local', source: '{"uri":"data/train.bin"}', schema: undefined, profile: undefined }, tags: { 'mlflow.data.context': 'training' } }]);
  });
});

describe('auth headers', () => {
  it('sends Basic when user and password are set, else Bearer', async () => {
    const { connectionFromEnv } = await import('../src/env.js');
    const server = await new FakeMlflowServer().start();
    try {
      const basic = new RestStore(connectionFromEnv(server.uri, { MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p:w', MLFLOW_TRACKING_TOKEN: 't' }));
      await basic.getExperimentByName('x');
      basic.close();
      expect(server.requests.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('u:p:w').toString('base64')}`);
      const bearer = new RestStore(connectionFromEnv(server.uri, { MLFLOW_TRACKING_TOKEN: 'tok' }, {}));
      await bearer.getExperimentByName('x');
      bearer.close();
      expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer tok');
      expect(() => connectionFromEnv(server.uri, { MLFLOW_TRACKING_INSECURE_TLS: 'maybe' })).toThrow(/MLFLOW_TRACKING_INSECURE_TLS/);
    } finally {
      await server.stop();
    }
  });
});
