import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTracker } from '@deepline/tracking';
// The loopback MLflow server of @deepline/tracking's tests (127.0.0.1 only, bounded).
import { FakeMlflowServer } from '../../../../packages/tracking/test/fakeMlflowServer.js';
import { type BenchRow, defineBenchSuite } from '../benchSuite.js';

// What logging costs a training loop. Peers are the unbatched ways other clients log: one
// awaited `runs/log-metric` POST per point (npm `mlflow`, most hand-rolled clients), and one
// appendFileSync per point into the same mlruns file (MLflow's own FileStore.log_metric).

async function peerRest(uri: string, runId: string, points: number): Promise<number> {
  const start = performance.now();
  for (let step = 0; step < points; step++) {
    const response = await fetch(`${uri}/api/2.0/mlflow/runs/log-metric`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ run_id: runId, key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step }),
    });
    await response.arrayBuffer();
  }
  return performance.now() - start;
}

export default defineBenchSuite({
  name: 'tracking',
  description: 'MLflow logging: caller-side and end-to-end cost of metric points (loopback server, local mlruns)',
  async run({ quick, log }) {
    const points = quick ? 2000 : 20000;
    const rows: BenchRow[] = [];
    const server = await new FakeMlflowServer().start();
    server.maxRequests = 1_000_000;
    const dir = mkdtempSync(join(tmpdir(), 'deepline-bench-tracking-'));
    try {
      const tracker = await createTracker({ uri: server.uri, experimentName: 'bench', handleSignals: false, spillDir: join(dir, 'spill') });
      const t0 = performance.now();
      for (let step = 0; step < points; step++) tracker.logMetrics({ loss: 1 / (step + 1) }, { step });
      const callerMs = performance.now() - t0;
      await tracker.end();
      const endToEndMs = performance.now() - t0;
      log(`ours: ${points} points queued in ${callerMs.toFixed(1)} ms, delivered in ${endToEndMs.toFixed(0)} ms`);
      const peerRun = await createTracker({ uri: server.uri, experimentName: 'bench', handleSignals: false, spillDir: join(dir, 'spill2') });
      const peerPoints = Math.min(points, quick ? 100 : 300);
      const peerMs = ((await peerRest(server.uri, peerRun.runId, peerPoints)) / peerPoints) * points;
      await peerRun.end();
      log(`peer: ${peerPoints} awaited log-metric POSTs, scaled to ${points} points: ${peerMs.toFixed(0)} ms`);
      rows.push({ name: `REST: training-loop time to log ${points} points`, unit: 'ms', ours: callerMs, peer: peerMs, peerName: 'awaited log-metric per point', higherIsBetter: false });
      rows.push({ name: `REST: ${points} points delivered`, unit: 'points/s', ours: (points / endToEndMs) * 1000, peer: (points / peerMs) * 1000, peerName: 'awaited log-metric per point', higherIsBetter: true });

      const root = join(dir, 'mlruns');
      const local = await createTracker({ uri: root, experimentName: 'bench', handleSignals: false });
      const t1 = performance.now();
      for (let step = 0; step < points; step++) local.logMetrics({ loss: 1 / (step + 1) }, { step });
      await local.end();
      const localMs = performance.now() - t1;
      const peerFile = join(root, local.experimentId, local.runId, 'metrics', 'peer');
      mkdirSync(join(peerFile, '..'), { recursive: true });
      const t2 = performance.now();
      for (let step = 0; step < points; step++) appendFileSync(peerFile, `${Date.now()} ${1 / (step + 1)} ${step}\n`);
      const peerLocalMs = performance.now() - t2;
      rows.push({ name: `mlruns: ${points} points written`, unit: 'points/s', ours: (points / localMs) * 1000, peer: (points / peerLocalMs) * 1000, peerName: 'append per point (MLflow FileStore)', higherIsBetter: true });
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
});
