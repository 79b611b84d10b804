import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { listCheckpoints, pruneCheckpoints, readCheckpoint } from './checkpoint.js';
import { resumeTrainer } from './testing/resumeScenario.js';

const tsx = createRequire(import.meta.url).resolve('tsx');
const child = fileURLToPath(new URL('./testing/killDuringSave.ts', import.meta.url));

describe('checkpoint interrupted by a killed process', () => {
  it('leaves the previous checkpoint loadable and the partial one invisible', async () => {
    await initBackend({ backend: 'cpu' });
    const dir = await makeTempDir('trainer-kill-');
    try {
      const proc = spawn(process.execPath, ['--conditions=source', '--import', tsx, child, dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      proc.stderr.on('data', (d) => {
        err += d;
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        proc.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (d) => {
          out += d;
          if (out.includes('WRITING 3')) resolve();
        });
        proc.on('exit', () => reject(new Error(`child exited before the write: ${out}\n${err}`)));
      });
      proc.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(out).toContain('SAVED 2');
      const entries = await readdir(dir);
      expect(entries.some((e) => e.startsWith('.tmp-step-00000003'))).toBe(true);
      expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([2]);
      const ckpt = await readCheckpoint((await listCheckpoints(dir))[0]!.path);
      expect(ckpt.state.step).toBe(2);
      const { trainer } = resumeTrainer({ modelSeed: 7, checkpointDir: dir });
      await trainer.resume(ckpt.path);
      expect(trainer.currentStep).toBe(2);
      expect((await trainer.trainStep())!.skipped).toBe(false);
      await pruneCheckpoints({ dir, keepLast: 3 });
      expect((await readdir(dir)).some((e) => e.startsWith('.tmp-'))).toBe(false);
    } finally {
      await removeDir(dir);
    }
  }, 60_000);
});
