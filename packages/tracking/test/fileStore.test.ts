import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrackingError } from '../src/errors.js';
import { FileStore } from '../src/fileStore.js';

const md5 = (...parts: string[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const yamlFile = async (path: string) => parse(await readFile(path, 'utf8'), { version: '1.1' });

describe("FileStore writes MLflow's mlruns layout", () => {
  let dir: string;
  let root: string;
  let store: FileStore;

  beforeEach(async () => {
    dir = await makeTempDir();
    root = join(dir, 'mlruns');
    store = new FileStore({ root });
  });
  afterEach(() => removeDir(dir));

  it('creates the Default experiment 0, .trash, and numeric experiment ids with the documented meta.yaml fields', async () => {
    const id = await store.createExperiment('tiny-moe', { team: 'research' });
    expect(id).toMatch(/^[1-9]\d{17}$/);
    expect(existsSync(join(root, '.trash'))).toBe(true);
    const zero = await yamlFile(join(root, '0', 'meta.yaml'));
    expect(zero).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active', artifact_location: pathToFileURL(join(root, '0')).href });
    const metaText = await readFile(join(root, id, 'meta.yaml'), 'utf8');
    const meta = parse(metaText, { version: '1.1' });
    expect(Object.keys(meta)).toEqual(['artifact_location', 'creation_time', 'experiment_id', 'last_update_time', 'lifecycle_stage', 'name']);
    expect(meta.artifact_location).toBe(pathToFileURL(join(root, id)).href);
    expect(meta.artifact_location.startsWith('file:///')).toBe(true);
    // experiment_id is a quoted string, the times are integers (ms).
    expect(metaText).toContain(`experiment_id: '${id}'`);
    expect(Number.isInteger(meta.creation_time)).toBe(true);
    expect(meta.creation_time).toBe(meta.last_update_time);
    expect(await readFile(join(root, id, 'tags', 'team'), 'utf8')).toBe('research');
    await expect(store.createExperiment('tiny-moe')).rejects.toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
  });

  it('writes run meta.yaml, metric lines, raw params and tags exactly as MLflow does', async () => {
    const exp = await store.createExperiment('e');
    const info = await store.createRun({ experimentId: exp, runName: 'yes', startTime: 1_700_000_000_123, userId: 'alice', tags: { 'mlflow.source.type': 'LOCAL' } });
    expect(info.runId).toMatch(/^[0-9a-f]{32}$/);
    const runDir = join(root, exp, info.runId);
    await store.logBatch(info.runId, {
      params: { lr: '0.001', 'model/dim': '64' },
      tags: { note: 'line1\nline2' },
      metrics: [
        { key: 'train/loss', value: 2.5, timestamp: 1_700_000_000_200, step: 0 },
        { key: 'train/loss', value: Number.NaN, timestamp: 1_700_000_000_300, step: 1 },
        { key: 'train/loss', value: 1e-5, timestamp: 1_700_000_000_400, step: 2 },
        { key: 'lr', value: Number.POSITIVE_INFINITY, timestamp: 1_700_000_000_500, step: 3 },
      ],
    });
    await store.updateRun(info.runId, 'FINISHED', 1_700_000_009_999);
    const expected = [
      `artifact_uri: ${pathToFileURL(join(root, exp)).href}/${info.runId}/artifacts`,
      'end_time: 1700000009999',
      "entry_point_name: ''",
      `experiment_id: '${exp}'`,
      'lifecycle_stage: active',
      `run_id: ${info.runId}`,
      "run_name: 'yes'",
      "source_name: ''",
      'source_type: 4',
      "source_version: ''",
      'start_time: 1700000000123',
      'status: 3',
      'tags: []',
      'user_id: alice',
      '',
    ].join('\n');
    expect(await readFile(join(runDir, 'meta.yaml'), 'utf8')).toBe(expected);
    expect(await readFile(join(runDir, 'metrics', 'train', 'loss'), 'utf8')).toBe('1700000000200 2.5 0\n1700000000300 nan 1\n1700000000400 1e-05 2\n');
    expect(await readFile(join(runDir, 'metrics', 'lr'), 'utf8')).toBe('1700000000500 inf 3\n');
    expect(await readFile(join(runDir, 'params', 'lr'), 'utf8')).toBe('0.001');
    expect(await readFile(join(runDir, 'params', 'model', 'dim'), 'utf8')).toBe('64');
    expect(await readFile(join(runDir, 'tags', 'note'), 'utf8')).toBe('line1\nline2');
    expect(await readFile(join(runDir, 'tags', 'mlflow.runName'), 'utf8')).toBe('yes');
    expect(await readFile(join(runDir, 'tags', 'mlflow.source.type'), 'utf8')).toBe('LOCAL');
    expect((await readdir(runDir)).sort()).toEqual(['artifacts', 'meta.yaml', 'metrics', 'params', 'tags']);

    const run = await store.getRun(info.runId);
    expect(run.info).toMatchObject({ status: 'FINISHED', runName: 'yes', endTime: 1_700_000_009_999, userId: 'alice' });
    const latest = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    expect(latest).toEqual({ 'train/loss': 1e-5, lr: Number.POSITIVE_INFINITY });
    expect(run.data.params).toEqual({ lr: '0.001', 'model/dim': '64' });
    const history = await store.getMetricHistory(info.runId, 'train/loss');
    expect(history.map((m) => [m.step, m.value])).toEqual([[0, 2.5], [1, Number.NaN], [2, 1e-5]]);
  });

  it('reads runs MLflow itself wrote (2-field metric lines, legacy run_uuid, status ints) and filters them', async () => {
    const exp = await store.createExperiment('legacy');
    const runId = 'a'.repeat(32);
    const runDir = join(root, exp, runId);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(runDir, 'metrics'), { recursive: true });
    await mkdir(join(runDir, 'params'), { recursive: true });
    await writeFile(join(runDir, 'meta.yaml'), `artifact_uri: file:///x/${runId}/artifacts\nend_time: null\nexperiment_id: '${exp}'\nlifecycle_stage: active\nrun_uuid: ${runId}\nrun_name: old\nstart_time: 5\nstatus: 4\nuser_id: bob\n`);
    await writeFile(join(runDir, 'metrics', 'acc'), '10 0.5\n20 0.75\n');
    await writeFile(join(runDir, 'params', 'lr'), '0.1');
    const run = await store.getRun(runId);
    expect(run.info).toMatchObject({ runId, status: 'FAILED', endTime: null, runName: 'old' });
    expect(run.data.metrics).toEqual([{ key: 'acc', value: 0.75, timestamp: 20, step: 0 }]);
    const other = await store.createRun({ experimentId: exp, runName: 'new', startTime: 10, userId: 'u', tags: {} });
    expect((await store.searchRuns({ experimentIds: [exp] })).map((r) => r.info.runName)).toEqual(['new', 'old']);
    expect((await store.searchRuns({ experimentIds: [exp], filter: "params.lr = '0.1' and metrics.acc > 0.7" })).map((r) => r.info.runId)).toEqual([runId]);
    expect((await store.searchRuns({ experimentIds: [exp], filter: "attributes.run_name LIKE 'ne%'" })).map((r) => r.info.runId)).toEqual([other.runId]);
    await expect(store.searchRuns({ experimentIds: [exp], filter: 'lr is big' })).rejects.toThrow(/unsupported run filter clause/);
    await writeFile(join(runDir, 'metrics', 'bad'), '1 2 3 4\n');
    await expect(store.getRun(runId)).rejects.toThrow(/metrics.bad:1/);
  });

  it('refuses to change a param value, as MLflow does', async () => {
    const exp = await store.createExperiment('e');
    const info = await store.createRun({ experimentId: exp, runName: 'r', startTime: 1, userId: 'u', tags: {} });
    await store.logBatch(info.runId, { params: { lr: '1' }, tags: {}, metrics: [] });
    await store.logBatch(info.runId, { params: { lr: '1' }, tags: {}, metrics: [] });
    const error = await store.logBatch(info.runId, { params: { lr: '2' }, tags: {}, metrics: [] }).catch((e) => e);
    expect(error).toBeInstanceOf(TrackingError);
    expect(error.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('writes dataset inputs under md5 ids and reads them back', async () => {
    const exp = await store.createExperiment('e');
    const info = await store.createRun({ experimentId: exp, runName: 'r', startTime: 1, userId: 'u', tags: {} });
    const dataset = { name: 'shards', digest: 'd1g3st', sourceType: 'local', source: '{"uri":"file:///data"}', schema: '{"tokens":"int32"}' };
    await store.logInputs(info.runId, [{ dataset, tags: { 'mlflow.data.context': 'training' } }]);
    const datasetId = md5('shards', 'd1g3st');
    expect(await yamlFile(join(root, exp, 'datasets', datasetId, 'meta.yaml'))).toEqual({ digest: 'd1g3st', name: 'shards', profile: null, schema: '{"tokens":"int32"}', source: '{"uri":"file:///data"}', source_type: 'local' });
    const inputMeta = await yamlFile(join(root, exp, info.runId, 'inputs', md5(datasetId, info.runId), 'meta.yaml'));
    expect(inputMeta).toEqual({ destination_id: info.runId, destination_type: 'RUN', source_id: datasetId, source_type: 'DATASET', tags: { 'mlflow.data.context': 'training' } });
    const run = await store.getRun(info.runId);
    expect(run.inputs).toEqual([{ dataset: { ...dataset, profile: undefined }, tags: { 'mlflow.data.context': 'training' } }]);
  });

  it('stores artifacts under the absolute file:// artifact_uri and keeps a file model registry', async () => {
    const exp = await store.createExperiment('e');
    const info = await store.createRun({ experimentId: exp, runName: 'r', startTime: 1, userId: 'u', tags: {} });
    const src = join(dir, 'weights.bin');
    await writeFile(src, Buffer.from([9, 8, 7]));
    await store.logArtifact(info, src, 'model');
    expect([...(await readFile(join(root, exp, info.runId, 'artifacts', 'model', 'weights.bin')))]).toEqual([9, 8, 7]);
    expect(await store.listArtifacts(info)).toEqual([{ path: 'model', isDir: true }]);
    expect(await store.listArtifacts(info, 'model')).toEqual([{ path: 'model/weights.bin', isDir: false, fileSize: 3 }]);
    await store.createRegisteredModel('tiny');
    const v1 = await store.createModelVersion({ name: 'tiny', source: `${info.artifactUri}/model`, runId: info.runId });
    const v2 = await store.createModelVersion({ name: 'tiny', source: `${info.artifactUri}/model`, runId: info.runId });
    expect([v1.version, v2.version]).toEqual(['1', '2']);
    const versionMeta = await yamlFile(join(root, 'models', 'tiny', 'version-2', 'meta.yaml'));
    expect(versionMeta).toMatchObject({ name: 'tiny', version: 2, source: `${info.artifactUri}/model`, run_id: info.runId, status: 'READY', current_stage: 'None' });
    await store.setAlias('tiny', 'prod', '1');
    expect(await readFile(join(root, 'models', 'tiny', 'aliases', 'prod'), 'utf8')).toBe('1');
    expect((await store.getModelVersionByAlias('tiny', 'prod')).aliases).toEqual(['prod']);
    await expect(store.setAlias('tiny', 'prod', '9')).rejects.toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    await expect(store.createRegisteredModel('a/b')).rejects.toThrow(/invalid name/);
  });
});
