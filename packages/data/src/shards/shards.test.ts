import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document } from '../types.js';
import { readManifest } from './manifest.js';
import { readShardFile } from './shardTable.js';
import { SplitAssigner } from './splitAssigner.js';
import { createLoader } from './tokenLoader.js';
import { writeShards } from './writeShards.js';

// Byte-level test tokenizer: ids 0–255 are bytes, 256 is EOS.
const tokenizer = {
  encode: (t: string) => Array.from(Buffer.from(t)),
  eosTokenId: 256,
  vocabSize: 257,
};

function corpus(n: number): Document[] {
  const rng = new SeededRandom(5);
  return Array.from({ length: n }, (_, i) => ({
    id: `doc-${i}`,
    text: `Document ${i}: ${'abcdefgh'.slice(0, 1 + rng.int(8)).repeat(1 + rng.int(20))}`,
    meta: { label: i % 3 === 0 ? 'rare' : 'common' },
  }));
}

let dir: string;
const docs = corpus(300);

beforeAll(async () => {
  dir = await makeTempDir('deepline-shards-');
});
afterAll(async () => {
  await removeDir(dir);
});

describe('token shards', () => {
  it('round-trips documents through Arrow IPC shards, readable by apache-arrow itself', async () => {
    const out = join(dir, 'rt');
    const manifest = await writeShards({
      documents: docs,
      tokenizer,
      outDir: out,
      fractions: { train: 0.8, validation: 0.1, test: 0.1 },
      seed: 7,
      stratifyBy: 'label',
      maxTokensPerShard: 2000,
    });
    const byId = new Map(docs.map((d) => [d.id, d]));
    let seen = 0;
    for (const [split, entry] of Object.entries(manifest.splits)) {
      let tokens = 0;
      for (const shard of entry.shards) {
        const bytes = await readFile(join(out, shard.file));
        // Independent reader: apache-arrow's own table API, row by row.
        const table = tableFromIPC(bytes);
        expect(table.numRows).toBe(shard.documents);
        for (let i = 0; i < table.numRows; i++) {
          const row = table.get(i)!;
          const original = byId.get(row.id as string)!;
          expect(Array.from(row.tokens.toArray() as Int32Array)).toEqual(
            tokenizer.encode(original.text),
          );
          expect(row.label).toBe(original.meta!.label);
          seen++;
        }
        const ours = await readShardFile({ file: join(out, shard.file), sha256: shard.sha256 });
        expect(ours.offsets[ours.offsets.length - 1]).toBe(shard.tokens);
        tokens += shard.tokens;
      }
      expect(tokens).toBe(entry.tokens);
      expect(split).toMatch(/train|validation|test/);
    }
    expect(seen).toBe(docs.length);
    expect(manifest.splits.train!.shards.length).toBeGreaterThan(1);
    // Stratified: each label is split 80/10/10 to within one document.
    for (const [label, counts] of Object.entries(manifest.strata)) {
      const total = docs.filter((d) => d.meta!.label === label).length;
      expect(Math.abs(counts.train! - 0.8 * total)).toBeLessThan(1);
      expect(Math.abs(counts.validation! - 0.1 * total)).toBeLessThan(1);
    }
    expect(await readManifest(out)).toEqual(manifest);
  });

  it('split assignment is deterministic for a seed and differs between seeds', () => {
    const run = (seed: number) => {
      const a = new SplitAssigner({ fractions: { train: 0.5, test: 0.5 }, seed });
      return Array.from({ length: 50 }, () => a.assign('x')).join(',');
    };
    expect(run(1)).toBe(run(1));
    expect(run(1)).not.toBe(run(2));
    expect(() => new SplitAssigner({ fractions: { train: 0.5, test: 0.4 } })).toThrow(/sum to 1/);
  });

  it('detects a corrupted shard through its manifest hash', async () => {
    const out = join(dir, 'corrupt');
    const manifest = await writeShards({
      documents: docs.slice(0, 20),
      tokenizer,
      outDir: out,
      fractions: { train: 1 },
    });
    const file = join(out, manifest.splits.train!.shards[0]!.file);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);
    const loader = await createLoader({ dir: out, sequenceLength: 16 });
    await expect(loader.next()).rejects.toThrow(/sha256/);
  });
});

describe('packed sequence loader', () => {
  let out: string;
  beforeAll(async () => {
    out = join(dir, 'loader');
    await writeShards({
      documents: docs,
      tokenizer,
      outDir: out,
      fractions: { train: 1 },
      maxTokensPerShard: 1500,
    });
  });

  it('without shuffling yields the documents back to back with EOS between them', async () => {
    const loader = await createLoader({ dir: out, sequenceLength: 64, shuffle: false });
    const stream: number[] = [];
    for (const d of docs) stream.push(...tokenizer.encode(d.text), 256);
    let i = 0;
    for await (const seq of loader) {
      expect(Array.from(seq)).toEqual(stream.slice(i * 64, (i + 1) * 64));
      i++;
    }
    expect(i).toBe(Math.floor(stream.length / 64));
  });

  it('shuffles by seed: same seed same order, other seed other order, same multiset of documents', async () => {
    const take = async (seed: number) => {
      const loader = await createLoader({ dir: out, sequenceLength: 32, seed });
      const seqs: number[][] = [];
      for await (const s of loader) seqs.push(Array.from(s));
      return seqs;
    };
    const a = await take(1);
    expect(await take(1)).toEqual(a);
    const b = await take(2);
    expect(b).not.toEqual(a);
    const count = (seqs: number[][]) => seqs.flat().filter((t) => t === 256).length;
    expect(Math.abs(count(a) - count(b))).toBeLessThanOrEqual(2);
  });

  it('resumes exactly from a saved state, across shard and epoch boundaries', async () => {
    const options = { dir: out, sequenceLength: 50, seed: 3, epochs: 3, prefetch: 2 };
    const reference: number[][] = [];
    for await (const s of await createLoader(options)) reference.push(Array.from(s));
    expect(reference.length).toBeGreaterThan(100);
    for (const cut of [1, 37, Math.floor(reference.length / 3) + 1, reference.length - 2]) {
      const first = await createLoader(options);
      for (let i = 0; i < cut; i++) await first.next();
      const state = JSON.parse(JSON.stringify(first.state()));
      const resumed = await createLoader({ ...options, state });
      const rest: number[][] = [];
      for await (const s of resumed) rest.push(Array.from(s));
      expect(rest).toEqual(reference.slice(cut));
      expect(state.sequences).toBe(cut);
    }
  });

  it('rejects bad options with clear errors', async () => {
    await expect(createLoader({ dir: out, sequenceLength: 0 })).rejects.toThrow(/sequenceLength/);
    await expect(createLoader({ dir: out, sequenceLength: 8, split: 'nope' })).rejects.toThrow(
      /split "nope"/,
    );
    await expect(createLoader({ dir: join(dir, 'missing'), sequenceLength: 8 })).rejects.toThrow(
      /manifest/,
    );
    await expect(
      createLoader({
        dir: out,
        sequenceLength: 8,
        state: { epoch: -1, shard: 0, doc: 0, token: 0, sequences: 0 },
      }),
    ).rejects.toThrow(/state.epoch/);
  });
});
