import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe } from '../testing.js';

describe('deepline serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('deepline-serve-cli-');
    const { writeTinyModelDir } = await import('@deepline/serving');
    await writeTinyModelDir(dir);
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('rejects bad usage with exit code 2', () => {
    const r = runCli(['serve', '--model', dir, '--workers', 'zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers');
  });

  it('fails clearly on a directory that is not a model', async () => {
    const empty = await makeTempDir('deepline-serve-empty-');
    const r = runCli(['serve', '--model', empty, '--port', '0'], { env: { DEEPLINE_BACKEND: 'cpu' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config.json');
    await removeDir(empty);
  });

  it('serves a model directory from two workers with an API key and stops gracefully on SIGTERM', async () => {
    const { child, url } = await startServe(['--model', dir, '--port', '0', '--api-key', 'k', '--name', 'tiny', '--workers', '2'], /workers serving on (http:\/\/[^\s]+)/);
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/v1/models`)).status).toBe(401);
      const models = (await (await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer k' } })).json()) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBe('tiny');
      const r = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny', prompt: 'hi', max_tokens: 3, temperature: 0 }),
      });
      expect(r.status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
