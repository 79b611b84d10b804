import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStages } from './runStages.js';
import type { RunTracker, Stage } from './stage.js';

interface Cfg {
  a: number;
  b: number;
  failTrain?: boolean;
}

/** Records every tracker call, so tests can check nesting, params and statuses. */
function recordingTracker(name = 'parent', log: string[] = []): RunTracker & { log: string[] } {
  return {
    runId: name,
    log,
    logParams: (p) => void log.push(`${name} params ${JSON.stringify(p)}`),
    logMetrics: (m) => void log.push(`${name} metrics ${Object.keys(m).sort().join(',')}`),
    setTags: (t) => void log.push(`${name} tags ${JSON.stringify(t)}`),
    logArtifact: async (p) => void log.push(`${name} artifact ${p.split('/').pop()}`),
    child: async (runName, tags) => {
      log.push(`${name} child ${runName} cached=${tags?.['deepline.cached']}`);
      return recordingTracker(`${name}/${runName}`, log);
    },
    end: async (status) => void log.push(`${name} end ${status}`),
  };
}

let dir: string;
let calls: string[];
beforeEach(async () => {
  dir = await makeTempDir();
  calls = [];
});
afterEach(() => removeDir(dir));

const stages: Stage<Cfg>[] = [
  {
    name: 'read',
    description: 'read',
    dependsOn: [],
    configSlice: (c) => ({ a: c.a }),
    params: (c) => ({ a: c.a }),
    async run({ dir: out, config }) {
      calls.push('read');
      await writeFile(join(out, 'data.txt'), `a=${config.a}`);
      return { outputs: { file: 'data.txt' }, metrics: { docs: config.a }, artifacts: ['data.txt'] };
    },
  },
  {
    name: 'train',
    description: 'train',
    dependsOn: ['read'],
    configSlice: (c) => ({ b: c.b }),
    resumable: true,
    async run({ dir: out, inputs, config }) {
      calls.push('train');
      const checkpoint = join(out, 'checkpoint');
      const resumedFrom = existsSync(checkpoint) ? Number(await readFile(checkpoint, 'utf8')) : 0;
      await writeFile(checkpoint, '5');
      if (config.failTrain) throw new Error('interrupted');
      const data = await readFile(join(inputs.read!.dir, inputs.read!.outputs.file as string), 'utf8');
      return { outputs: { data, resumedFrom }, metrics: { loss: 1 / config.b } };
    },
  },
  {
    name: 'report',
    description: 'report',
    dependsOn: ['train'],
    configSlice: () => ({}),
    async run({ inputs }) {
      calls.push('report');
      return { outputs: { text: `${inputs.train!.outputs.data}` }, metrics: {} };
    },
  },
];

const logger = createLogger({ level: 'silent' });
const run = (config: Cfg, extra: { from?: string; only?: string } = {}, tracker = recordingTracker()) =>
  runStages({ config, stages, cacheDir: join(dir, 'cache'), tracker, logger, version: '1', ...extra });

describe('runStages', () => {
  it('runs every stage once, then reuses all of them from the cache', async () => {
    const first = await run({ a: 1, b: 2 });
    expect(calls).toEqual(['read', 'train', 'report']);
    expect(first.report!.outputs.text).toBe('a=1');
    const tracker = recordingTracker();
    const second = await run({ a: 1, b: 2 }, {}, tracker);
    expect(calls).toEqual(['read', 'train', 'report']);
    expect(Object.values(second).every((r) => r.cached)).toBe(true);
    expect(tracker.log).toContain('parent child read cached=true');
    expect(tracker.log).toContain('parent/read metrics docs');
  });

  it('re-runs only what a config change invalidates (downstream included)', async () => {
    await run({ a: 1, b: 2 });
    calls = [];
    await run({ a: 1, b: 3 });
    expect(calls).toEqual(['train', 'report']);
  });

  it('--from re-runs a stage and everything after it; --only re-runs one stage', async () => {
    await run({ a: 1, b: 2 });
    calls = [];
    await run({ a: 1, b: 2 }, { from: 'train' });
    expect(calls).toEqual(['train', 'report']);
    calls = [];
    await run({ a: 1, b: 2 }, { only: 'read' });
    expect(calls).toEqual(['read']);
  });

  it('--only refuses when an input stage is not cached, and unknown stage names are named', async () => {
    await expect(run({ a: 1, b: 2 }, { only: 'report' })).rejects.toThrow(/stage 'read' has no cached result/);
    await expect(run({ a: 1, b: 2 }, { from: 'trian' })).rejects.toThrow(/--from names unknown stage 'trian'; stages are: read, train, report/);
  });

  it('an interrupted resumable stage resumes from its partial work and its run is marked FAILED', async () => {
    const tracker = recordingTracker();
    await expect(run({ a: 1, b: 2, failTrain: true }, {}, tracker)).rejects.toThrow('interrupted');
    expect(tracker.log).toContain('parent/train end FAILED');
    // The failTrain flag is not part of train's config slice, so the retry has the same hash.
    const result = await run({ a: 1, b: 2 });
    expect(result.train!.outputs.resumedFrom).toBe(5);
    expect(calls).toEqual(['read', 'train', 'train', 'report']);
  });

  it('logs params, metrics and artifacts in a nested run per stage', async () => {
    const tracker = recordingTracker();
    await run({ a: 4, b: 2 }, {}, tracker);
    expect(tracker.log).toEqual(
      expect.arrayContaining([
        'parent child read cached=false',
        'parent/read params {"a":4}',
        'parent/read metrics docs,stage_seconds',
        'parent/read artifact data.txt',
        'parent/read end FINISHED',
        'parent/train metrics loss,stage_seconds',
      ]),
    );
  });
});
