import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeShards } from '@deepline/data';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

/** Bytes as tokens, 256 = EOS. */
const byteTokenizer = { vocabSize: 257, eosTokenId: 256, encode: (text: string) => [...new TextEncoder().encode(text)] };

const modelOverrides = [
  '    vocabSize: 260',
  '    dim: 32',
  '    interDim: 48',
  '    moeInterDim: 16',
  '    nHeads: 2',
  '    nRoutedExperts: 4',
  '    nActivatedExperts: 2',
  '    nExpertGroups: 1',
  '    nLimitedGroups: 1',
  '    qLoraRank: 0',
  '    kvLoraRank: 16',
  '    qkNopeHeadDim: 8',
  '    qkRopeHeadDim: 8',
  '    vHeadDim: 8',
  '    maxSeqLen: 32',
  '    originalSeqLen: 32',
];

function config(options: { out: string; maxSteps: number; tracking?: string }): string {
  return [
    'seed: 1',
    'model:',
    '  preset: tiny',
    '  initStd: 0.05',
    '  overrides:',
    ...modelOverrides,
    'data:',
    '  dir: shards',
    '  seqLen: 16',
    '  batchSize: 2',
    'training:',
    `  maxSteps: ${options.maxSteps}`,
    'schedule: { kind: cosine, peakLr: 0.01, warmupSteps: 1, totalSteps: 4, minLr: 0.001 }',
    'validation: { every: 2, maxBatches: 2 }',
    `output: { dir: ${options.out}, checkpointEvery: 2 }`,
    ...(options.tracking ? [`tracking: { uri: ${options.tracking}, experiment: cli-train, registerModelName: tiny-cli }`] : []),
    '',
  ].join('\n');
}

const trainLosses = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => l.type === 'train')
    .map((l) => [l.step, l.loss] as [number, number]);

describe('deepline train', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('cli-train-');
    const documents = Array.from({ length: 60 }, (_, i) => ({ id: `d${i}`, text: `Line ${i}: the quick brown fox jumps over the lazy dog ${i % 7} times.` }));
    await writeShards({ documents, tokenizer: byteTokenizer, outDir: join(tmp, 'shards'), fractions: { train: 0.8, validation: 0.2 } });
    await writeFile(join(tmp, 'full.yaml'), config({ out: 'full', maxSteps: 4, tracking: 'mlruns' }));
    await writeFile(join(tmp, 'half.yaml'), config({ out: 'resumed', maxSteps: 2 }));
    await writeFile(join(tmp, 'rest.yaml'), config({ out: 'resumed', maxSteps: 4 }));
  });
  afterAll(async () => {
    await removeDir(tmp);
  });

  it('trains, checkpoints, validates, exports the model and logs to the tracker', () => {
    const r = runCli(['train', '--config', join(tmp, 'full.yaml'), '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ steps: 4, reason: 'max-steps', skippedSteps: 0 });
    expect(summary.bestValLoss).toBeGreaterThan(0);
    const run = join(tmp, 'full');
    expect(trainLosses(run).map(([s]) => s)).toEqual([1, 2, 3, 4]);
    expect(readdirSync(join(run, 'checkpoints')).filter((d) => d.startsWith('step-'))).toEqual(['step-00000002', 'step-00000004']);
    expect(existsSync(join(run, 'checkpoints', 'model', 'config.json'))).toBe(true);
    expect(existsSync(join(run, 'checkpoints', 'loss.svg'))).toBe(true);
    const files = readdirSync(join(tmp, 'mlruns'), { recursive: true }).map(String);
    expect(files.some((f) => /metrics[\\/]loss$/.test(f))).toBe(true);
    expect(files.some((f) => /artifacts[\\/]model[\\/]config\.json$/.test(f))).toBe(true);
  }, 120_000);

  it('--resume continues the interrupted run on the same loss trajectory', () => {
    const half = runCli(['train', '--config', join(tmp, 'half.yaml'), '--backend', 'wasm']);
    expect(half.code, half.stderr).toBe(0);
    const rest = runCli(['train', '--config', join(tmp, 'rest.yaml'), '--backend', 'wasm', '--resume', join(tmp, 'resumed', 'checkpoints')]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({ steps: 4 });
    const full = new Map(trainLosses(join(tmp, 'full')));
    const resumed = trainLosses(join(tmp, 'resumed'));
    expect(resumed.map(([s]) => s)).toEqual([1, 2, 3, 4]);
    for (const [step, loss] of resumed) expect(Math.abs(loss - full.get(step)!)).toBeLessThan(1e-5);
  }, 120_000);

  it('rejects a bad config naming the field, and bad usage', async () => {
    await writeFile(join(tmp, 'bad.yaml'), config({ out: 'bad', maxSteps: 4 }).replace('  batchSize: 2', '  batchSize: -2'));
    const bad = runCli(['train', '--config', join(tmp, 'bad.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('data.batchSize');
    await writeFile(join(tmp, 'override.yaml'), config({ out: 'bad', maxSteps: 4 }).replace('    dim: 32', '    dimm: 32'));
    const override = runCli(['train', '--config', join(tmp, 'override.yaml'), '--backend', 'cpu']);
    expect(override.code).toBe(1);
    expect(override.stderr).toContain('model.overrides.dimm');
    expect(runCli(['train']).code).toBe(2);
  }, 60_000);
});
