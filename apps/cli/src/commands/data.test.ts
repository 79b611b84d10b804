import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { readShardFile } from '@deepline/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const PROSE = [
  'The committee met on Tuesday to review the budget for the coming year.',
  'Members agreed that the library needs new shelves and a better heating system.',
  'They also discussed the plan to extend opening hours during the winter months.',
  'Several residents spoke in favour of the proposal and asked for more evening events.',
  'The treasurer explained that the costs would be covered by a small grant from the county.',
  'After a long debate, the members voted to approve the plan with two minor changes.',
].join(' ');

describe('deepline data', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('cli-data-');
    await mkdir(join(tmp, 'in'));
    const rows = [
      { id: 'good', text: `${PROSE} Write to clerk@example.org for details.`, label: 'a' },
      { id: 'spam', text: 'BUY NOW!!! click here $$$', label: 'b' },
      { id: 'dup', text: `${PROSE} Write to clerk@example.org for details.`, label: 'a' },
    ];
    await writeFile(
      join(tmp, 'in', 'docs.jsonl'),
      `${rows.map((r) => JSON.stringify(r)).join('\n')}\n{broken json\n`,
    );
    await writeFile(
      join(tmp, 'data.yaml'),
      [
        'input:',
        '  idField: id',
        '  metaFields: [label]',
        'clean:',
        '  language: false',
        'workers: 0',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await removeDir(tmp);
  });

  it('clean: writes cleaned JSONL, a JSON report and a summary naming corrupt lines', () => {
    const out = join(tmp, 'clean.jsonl');
    const r = runCli([
      'data',
      'clean',
      join(tmp, 'in', '*.jsonl'),
      '--config',
      join(tmp, 'data.yaml'),
      '--out',
      out,
    ]);
    expect(r.stderr).toContain('1 corrupt record');
    expect(r.code).toBe(0);
    const docs = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(docs.map((d) => d.id)).toEqual(['good', 'dup']);
    expect(docs[0].text).toContain('<EMAIL>');
    expect(docs[0].label).toBe('a');
    const report = JSON.parse(readFileSync(`${out}.report.json`, 'utf8'));
    expect(report.corrupt.records[0]).toMatchObject({ line: 4, kind: 'invalid-json' });
    expect(r.stdout).toMatch(/gopher_\w+: in 3, out 2, dropped 1/);
    const augmented = join(tmp, 'augmented.jsonl');
    expect(runCli(['data', 'augment', out, '--out', augmented]).code).toBe(0);
    const aug = readFileSync(augmented, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(aug).toHaveLength(4);
    expect(aug[1].augmented).toBe(true);
    expect(aug[1].text).not.toBe(aug[0].text);
  }, 60_000);

  it('dedup then shard then stats', async () => {
    const deduped = join(tmp, 'dedup.jsonl');
    expect(
      runCli([
        'data',
        'dedup',
        join(tmp, 'in', 'docs.jsonl'),
        '--config',
        join(tmp, 'data.yaml'),
        '--out',
        deduped,
      ]).code,
    ).toBe(0);
    const ids = readFileSync(deduped, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual(['good', 'spam']);
    const shards = join(tmp, 'shards');
    const s = runCli([
      'data',
      'shard',
      deduped,
      '--config',
      join(tmp, 'data.yaml'),
      '--tokenizer',
      'byte',
      '--out',
      shards,
    ]);
    expect(s.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(shards, 'manifest.json'), 'utf8'));
    const files = Object.values(manifest.splits).flatMap(
      (split) => (split as { shards: Array<{ file: string }> }).shards,
    );
    const ids2: string[] = [];
    for (const f of files) ids2.push(...(await readShardFile({ file: join(shards, f.file) })).ids);
    expect(ids2.sort()).toEqual(['good', 'spam']);
    const stats = runCli(['data', 'stats', shards]);
    expect(stats.stdout).toMatch(/documents/);
    const corpus = runCli(['data', 'stats', deduped, '--json']);
    expect(JSON.parse(corpus.stdout)).toMatchObject({ documents: 2 });
  }, 60_000);

  it('bad usage and bad config fail clearly', async () => {
    expect(runCli(['data', 'wash']).code).toBe(2);
    expect(runCli(['data', 'clean', join(tmp, 'in')]).stderr).toMatch(/--out/);
    await writeFile(join(tmp, 'bad.yaml'), 'dedup:\n  minhash:\n    bands: -3\n');
    const r = runCli([
      'data',
      'dedup',
      join(tmp, 'in'),
      '--config',
      join(tmp, 'bad.yaml'),
      '--out',
      join(tmp, 'x.jsonl'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dedup\.minhash\.bands/);
  }, 60_000);
});
