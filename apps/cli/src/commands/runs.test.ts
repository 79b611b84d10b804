import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTracker } from '@deepline/tracking';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The loopback MLflow server of @deepline/tracking's tests (127.0.0.1 only).
import { FakeMlflowServer } from '../../../../packages/tracking/test/fakeMlflowServer.js';
import { main } from '../main.js';
import { runCli } from '../testing.js';

const tsx = createRequire(import.meta.url).resolve('tsx');
const bin = fileURLToPath(new URL('../bin.ts', import.meta.url));

/** Runs the command in-process (cheap) and captures its output. */
async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) =>
    ({
      write: (chunk: string) => {
        write(chunk);
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: sink((c) => (stdout += c)), stderr: sink((c) => (stderr += c)) });
  return { code, stdout, stderr };
}

/** runCli, but without blocking the event loop (the in-process server must keep answering). */
function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, bin, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('deepline runs', () => {
  let dir: string;
  let root: string;
  let runId: string;

  beforeAll(async () => {
    dir = await makeTempDir();
    root = join(dir, 'mlruns');
    const tracker = await createTracker({ uri: root, experimentName: 'cli-exp', runName: 'cli-run', handleSignals: false });
    tracker.logParams({ lr: 0.01 });
    tracker.logMetrics({ loss: 0.25, bad: Number.NaN }, { step: 3 });
    await tracker.logText('hello', 'notes/readme.txt');
    await tracker.end();
    runId = tracker.runId;
  });
  afterAll(() => removeDir(dir));

  it('lists runs of a local mlruns store, by experiment and as JSON', async () => {
    const list = runCli(['runs', 'list', '--uri', root]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${runId}\\s+cli-exp\\s+cli-run\\s+FINISHED`));
    const json = await runInProcess(['runs', 'list', '--experiment', 'cli-exp', '--json', '--uri', root]);
    const runs = JSON.parse(json.stdout);
    expect(runs.map((r: { info: { runId: string } }) => r.info.runId)).toEqual([runId]);
    expect(runs[0].data.metrics.find((m: { key: string }) => m.key === 'bad').value).toBe('NaN');
    const missing = await runInProcess(['runs', 'list', '--uri', root, '--experiment', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no experiment named 'nope'");
  });

  it('shows one run with params, metrics, tags and artifacts', async () => {
    const show = runCli(['runs', 'show', runId, '--uri', root]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/status\s+FINISHED/);
    expect(show.stdout).toMatch(/lr\s+0.01/);
    expect(show.stdout).toMatch(/loss\s+0.25 \(step 3\)/);
    expect(show.stdout).toMatch(/mlflow.runName\s+cli-run/);
    expect(show.stdout).toContain('notes/');
    const unknown = await runInProcess(['runs', 'show', 'f'.repeat(32), '--uri', root]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('not found');
  });

  it('rejects bad usage with exit 2', async () => {
    const frob = runCli(['runs', 'frob']);
    expect(frob.code).toBe(2);
    expect(frob.stderr).toContain("unknown action 'frob'");
    expect((await runInProcess(['runs'])).code).toBe(2);
    expect((await runInProcess(['runs', 'list', '--max', '0', '--uri', root])).stderr).toContain('--max must be a positive integer');
    expect((await runInProcess(['runs', 'list', '--uri', 'ftp://x'])).stderr).toContain('unsupported tracking URI');
  });

  it('reads runs from an MLflow server', async () => {
    const server = await new FakeMlflowServer().start();
    try {
      const tracker = await createTracker({ uri: server.uri, experimentName: 'remote', runName: 'remote-run', handleSignals: false });
      tracker.logMetrics({ acc: 0.75 }, { step: 1 });
      await tracker.end();
      const list = await runInProcess(['runs', 'list', '--uri', server.uri]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`${tracker.runId}\\s+remote\\s+remote-run\\s+FINISHED`));
      const show = await runCliAsync(['runs', 'show', tracker.runId, '--json'], { MLFLOW_TRACKING_URI: server.uri });
      const run = JSON.parse(show.stdout);
      expect(run.data.metrics).toEqual([{ key: 'acc', value: 0.75, timestamp: expect.any(Number), step: 1 }]);
    } finally {
      await server.stop();
    }
  });
});
