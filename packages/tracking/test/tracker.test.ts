import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrackingError } from '../src/errors.js';
import { createTracker, replaySpill, withTracker } from '../src/mlflowTracker.js';
import { FakeMlflowServer } from './fakeMlflowServer.js';

const FAST = { maxRetries: 1, backoffFactorMs: 5, backoffJitterMs: 0, timeoutMs: 1000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `condition` (bounded: 100 tries, 50 ms apart). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(50);
  expect(condition()).toBe(true);
}

describe('MlflowTracker over REST', () => {
  let server: FakeMlflowServer;
  let dir: string;

  beforeEach(async () => {
    server = await new FakeMlflowServer().start();
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await server.stop().catch(() => {});
    await removeDir(dir);
  });

  const options = () => ({
    uri: server.uri,
    experimentName: 'moe',
    retry: FAST,
    flushIntervalMs: 20,
    outageBackoffMs: 20,
    maxOutageBackoffMs: 100,
    spillDir: join(dir, 'spill'),
    handleSignals: false,
    endTimeoutMs: 3000,
  });

  it('logs without waiting, batches within limits, tags the run, and ends FINISHED', async () => {
    const tracker = await createTracker({ ...options(), runName: 'train', tags: { stage: 'pretrain' } });
    const start = performance.now();
    tracker.logParams({ lr: 0.001, layers: 2, tied: true });
    for (let step = 0; step < 2500; step++) tracker.logMetrics({ loss: 1 / (step + 1), lr: 0.001 }, { step });
    // 5000 points queued: no network on the caller's path.
    expect(performance.now() - start).toBeLessThan(500);
    const report = await tracker.end();
    expect(report).toMatchObject({ status: 'FINISHED', pending: 0 });
    const run = server.runs.get(tracker.runId)!;
    expect(run.info.status).toBe('FINISHED');
    expect(run.metrics).toHaveLength(5000);
    expect(run.metrics.filter((m) => m.key === 'loss').map((m) => m.step)).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(Object.fromEntries(run.params)).toEqual({ lr: '0.001', layers: '2', tied: 'true' });
    expect(run.tags.get('mlflow.runName')).toBe('train');
    expect(run.tags.get('mlflow.source.type')).toBe('LOCAL');
    expect(run.tags.get('stage')).toBe('pretrain');
    expect(run.info.user_id).not.toBe('');
    // Every request respected the server's limits (the fake server rejects others with 400).
    expect(server.requests.filter((r) => r.path.endsWith('log-batch')).length).toBeGreaterThanOrEqual(5);
    expect(tracker.stats.rejected).toBe(0);
  });

  it('keeps metrics through an outage (spilling to disk past the memory bound) and delivers them exactly once', async () => {
    const tracker = await createTracker({ ...options(), maxBufferedMetrics: 400 });
    tracker.logMetrics({ loss: 10 }, { step: 0 });
    await tracker.flush();
    await server.stop();
    for (let step = 1; step <= 2000; step++) tracker.logMetrics({ loss: 10 - step / 1000 }, { step });
    await waitFor(() => tracker.stats.failedAttempts > 0);
    expect(tracker.stats.spilled).toBeGreaterThanOrEqual(1600);
    const spillFiles = readdirSync(join(dir, 'spill')).filter((f) => f.endsWith('.jsonl'));
    expect(spillFiles.length).toBeGreaterThanOrEqual(4);
    await server.restart();
    const report = await tracker.end();
    expect(report.pending).toBe(0);
    const steps = server.runs.get(tracker.runId)!.metrics.map((m) => m.step);
    expect(steps).toEqual(Array.from({ length: 2001 }, (_, i) => i));
    expect(readdirSync(join(dir, 'spill')).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('rides out 429 with Retry-After and dropped connections without duplicates', async () => {
    const tracker = await createTracker(options());
    server.faults.push({ endpoint: 'runs/log-batch', kind: 'status', status: 429, retryAfter: '0', times: 3 });
    server.faults.push({ endpoint: 'runs/log-batch', kind: 'applyThenDrop', times: 2 });
    for (let step = 0; step < 1500; step++) tracker.logMetrics({ loss: step }, { step });
    await tracker.end();
    const metrics = server.runs.get(tracker.runId)!.metrics;
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });

  it('at end() during a lasting outage, spills everything and replaySpill delivers it later', async () => {
    const tracker = await createTracker({ ...options(), endTimeoutMs: 200 });
    tracker.logParams({ seed: 7 });
    await server.stop();
    for (let step = 0; step < 50; step++) tracker.logMetrics({ loss: step / 10, grad_norm: Number.NaN }, { step });
    tracker.setTags({ phase: 'done' });
    const errors: TrackingError[] = [];
    (tracker as unknown as { options: { onError: (e: TrackingError) => void } }).options.onError = (e) => errors.push(e);
    const report = await tracker.end('FINISHED');
    expect(report.pending).toBeGreaterThan(100);
    expect(report.spillDir).toBe(join(dir, 'spill'));
    expect(existsSync(join(dir, 'spill', 'run-end.json'))).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['UNDELIVERED']);
    await server.restart();
    const sent = await replaySpill({ dir: report.spillDir!, env: {} });
    expect(sent).toBe(1 + 100 + 1);
    const run = server.runs.get(tracker.runId)!;
    expect(run.metrics.filter((m) => m.key === 'loss')).toHaveLength(50);
    expect(run.metrics.filter((m) => m.key === 'grad_norm').every((m) => Number.isNaN(m.value))).toBe(true);
    expect(run.params.get('seed')).toBe('7');
    expect(run.tags.get('phase')).toBe('done');
    expect(run.info.status).toBe('FINISHED');
    expect(existsSync(join(dir, 'spill'))).toBe(false);
  });

  it('ends FAILED when the wrapped work throws; nested runs carry mlflow.parentRunId', async () => {
    let parentId = '';
    await expect(
      withTracker({ ...options(), runName: 'sweep' }, async (t) => {
        parentId = t.runId;
        const child = await t.child('trial-1');
        child.logMetrics({ acc: 0.5 });
        await child.end();
        expect(server.runs.get(child.runId)!.tags.get('mlflow.parentRunId')).toBe(t.runId);
        expect(server.runs.get(child.runId)!.info.experiment_id).toBe(t.experimentId);
        throw new Error('diverged');
      }),
    ).rejects.toThrow('diverged');
    expect(server.runs.get(parentId)!.info.status).toBe('FAILED');
  });

  it('rejects bad input at the call site, naming the keys', async () => {
    const tracker = await createTracker(options());
    tracker.logParams({ lr: 0.1 });
    expect(() => tracker.logParams({ lr: 0.2 })).toThrow(/lr was '0.1', now '0.2'/);
    expect(() => tracker.logParams({ prompt: 'x'.repeat(6001) })).toThrow(/prompt \(6001 chars\)/);
    expect(() => tracker.logMetrics({ 'bad*key': 1 })).toThrow(/bad\*key/);
    expect(() => tracker.logMetrics({ loss: 1 }, { step: 1.5 })).toThrow(/integers/);
    expect(() => tracker.logMetrics({ loss: '1' as unknown as number })).toThrow(/must be a number/);
    await expect(tracker.logDataset({ name: 'd', digest: 'x'.repeat(37), sourceType: 'local', source: '{}' })).rejects.toThrow(/digest/);
    await tracker.end();
    expect(() => tracker.logMetrics({ loss: 1 })).toThrow(/ended/);
  });

  it('registers a model version from the run artifacts and sets an alias', async () => {
    const tracker = await createTracker(options());
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'model.safetensors'), Buffer.alloc(16));
    await tracker.logArtifact(join(dir, 'model.safetensors'), 'model');
    const registered = await tracker.registerModel('tiny-moe', 'model', { alias: 'candidate' });
    expect(registered).toEqual({ name: 'tiny-moe', version: '1' });
    const model = server.models.get('tiny-moe')!;
    expect(model.versions[0]).toMatchObject({ source: `${tracker.artifactUri}/model`, run_id: tracker.runId });
    expect(model.aliases.get('candidate')).toBe('1');
    await tracker.end();
  });
});

describe('MlflowTracker on the local store', () => {
  it('defaults to the mlruns FileStore and plots curves and expert load as artifacts', async () => {
    const dir = await makeTempDir();
    try {
      const tracker = await createTracker({ uri: join(dir, 'mlruns'), experimentName: 'local', runName: 'plots', handleSignals: false, flushIntervalMs: 20 });
      for (let step = 0; step < 30; step++) tracker.logMetrics({ 'train/loss': 3 * Math.exp(-step / 10), lr: 1e-3 * Math.min(1, (step + 1) / 10) }, { step });
      const curve = await tracker.logMetricPlot({ keys: ['train/loss'], name: 'loss', logScale: true });
      await tracker.logMetricPlot({ keys: ['lr'], name: 'lr' });
      const heat = await tracker.logExpertLoadHeatmap({ load: [[5, 1, 0, 2], [3, 3, 3, 3]], step: 29 });
      expect(curve).toBe('plots/loss.png');
      expect(heat).toBe('plots/expert-load-step-29.png');
      const files = (await tracker.listArtifacts('plots')).map((f) => f.path);
      expect(files).toEqual(['plots/expert-load-step-29.png', 'plots/expert-load-step-29.svg', 'plots/loss.png', 'plots/loss.svg', 'plots/lr.png', 'plots/lr.svg']);
      await tracker.end();
      const run = await tracker.store.getRun(tracker.runId);
      expect(run.info.status).toBe('FINISHED');
      expect(run.data.metrics.find((m) => m.key === 'train/loss')!.step).toBe(29);
    } finally {
      await removeDir(dir);
    }
  });
});
