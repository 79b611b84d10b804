import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const tsx = createRequire(import.meta.url).resolve('tsx');
const script = fileURLToPath(new URL('./signalChild.ts', import.meta.url));

function runChild(root: string, signal: NodeJS.Signals | 'exit'): Promise<{ code: number | null; signal: NodeJS.Signals | null; runDir: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, script, root, signal], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, runDir: out.trim() });
    });
  });
}

describe('run lifecycle on signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`marks the run KILLED (status 5) on ${signal}, keeps its metrics, and still dies of the signal`, async () => {
      const root = join(await makeTempDir(), 'mlruns');
      try {
        const result = await runChild(root, signal);
        expect(result.signal).toBe(signal);
        const meta = parse(readFileSync(join(result.runDir, 'meta.yaml'), 'utf8'), { version: '1.1' });
        expect(meta.status).toBe(5);
        expect(Number.isInteger(meta.end_time)).toBe(true);
        expect(readFileSync(join(result.runDir, 'metrics', 'loss'), 'utf8').trim().split('\n')).toHaveLength(3);
      } finally {
        await removeDir(join(root, '..'));
      }
    });
  }

  it('delivers and finishes a run whose script ends without calling end()', async () => {
    const root = join(await makeTempDir(), 'mlruns');
    try {
      const result = await runChild(root, 'exit');
      expect(result.code).toBe(0);
      const meta = parse(readFileSync(join(result.runDir, 'meta.yaml'), 'utf8'), { version: '1.1' });
      expect(meta.status).toBe(3);
      expect(readFileSync(join(result.runDir, 'metrics', 'loss'), 'utf8').trim().split('\n')).toHaveLength(3);
    } finally {
      await removeDir(join(root, '..'));
    }
  });
});
