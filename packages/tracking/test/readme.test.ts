import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../src/fileStore.js';
import { readmeExample } from '../src/readme.example.js';

describe('README example', () => {
  it('is quoted verbatim in README.md', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)![1];
    expect(block).toBe(readFileSync(new URL('../src/readme.example.ts', import.meta.url), 'utf8'));
  });

  it('runs against a local mlruns store and leaves a FINISHED run with plots and a nested eval run', async () => {
    const dir = await makeTempDir();
    try {
      const root = join(dir, 'mlruns');
      const runId = await readmeExample(root);
      const store = new FileStore({ root });
      const run = await store.getRun(runId);
      expect(run.info.status).toBe('FINISHED');
      expect(run.data.params).toEqual({ lr: '0.0003', layers: '2', experts: '4' });
      expect((await store.getMetricHistory(runId, 'train/loss')).length).toBe(20);
      expect((await store.listArtifacts(run.info, 'plots')).map((f) => f.path)).toContain('plots/loss.png');
      const children = await store.searchRuns({ experimentIds: [run.info.experimentId], filter: `tags.\`mlflow.parentRunId\` = '${runId}'` });
      expect(children.map((c) => c.info.runName)).toEqual(['eval']);
    } finally {
      await removeDir(dir);
    }
  });
});
