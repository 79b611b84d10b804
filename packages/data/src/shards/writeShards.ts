import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import type { DataReport } from '../report.js';
import type { Document, TextTokenizer } from '../types.js';
import { MANIFEST_FILE, SHARD_FORMAT, type ShardEntry, type ShardManifest } from './manifest.js';
import { encodeShard } from './shardTable.js';
import { SplitAssigner } from './splitAssigner.js';

export interface WriteShardsOptions {
  documents: AsyncIterable<Document> | Iterable<Document>;
  tokenizer: TextTokenizer;
  /** Output directory (created); receives `<split>-00000.arrow`… and manifest.json. */
  outDir: string;
  /** Split fractions (default { train: 0.98, validation: 0.01, test: 0.01 }). */
  fractions?: Record<string, number>;
  /** Seed of the split assignment (default 0). */
  seed?: number;
  /** `meta` field to stratify by (e.g. 'label'); documents without it form their own stratum. */
  stratifyBy?: string;
  /** Tokens per shard before a new file is started (default 16 Mi = 64 MiB of int32). */
  maxTokensPerShard?: number;
  report?: DataReport;
}

interface OpenShard {
  ids: string[];
  labels: Array<string | null>;
  chunks: Int32Array[];
  offsets: number[];
  tokens: number;
}

/**
 * Tokenises documents and writes them, split by seed (and stratum), into Arrow IPC shards
 * plus a manifest with per-shard counts and SHA-256 hashes. Memory: one open shard per split.
 */
export async function writeShards(options: WriteShardsOptions): Promise<ShardManifest> {
  const eos = options.tokenizer.eosTokenId;
  if (eos === undefined) {
    throw new DataError('sharding needs tokenizer.eosTokenId (written between packed documents)', {
      code: 'BAD_OPTION',
      context: { field: 'tokenizer.eosTokenId' },
    });
  }
  const fractions = options.fractions ?? { train: 0.98, validation: 0.01, test: 0.01 };
  const seed = options.seed ?? 0;
  const assigner = new SplitAssigner({ fractions, seed });
  const maxTokens = options.maxTokensPerShard ?? 1 << 24;
  await mkdir(options.outDir, { recursive: true });
  const open = new Map<string, OpenShard>();
  const splits: ShardManifest['splits'] = Object.fromEntries(
    assigner.names.map((n) => [n, { documents: 0, tokens: 0, shards: [] as ShardEntry[] }]),
  );
  const stats = options.report?.stage('shard');

  const flush = async (split: string) => {
    const shard = open.get(split);
    if (!shard || shard.ids.length === 0) return;
    const tokens = new Int32Array(shard.tokens);
    let at = 0;
    for (const c of shard.chunks) {
      tokens.set(c, at);
      at += c.length;
    }
    const bytes = encodeShard({
      ids: shard.ids,
      labels: shard.labels,
      tokens,
      offsets: Int32Array.from(shard.offsets),
    });
    const entry = splits[split]!;
    const file = `${split}-${String(entry.shards.length).padStart(5, '0')}.arrow`;
    await writeFile(join(options.outDir, file), bytes);
    entry.shards.push({
      file,
      documents: shard.ids.length,
      tokens: shard.tokens,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    open.delete(split);
  };

  for await (const doc of options.documents) {
    const encoded = options.tokenizer.encode(doc.text);
    if (stats) stats.input++;
    if (encoded.length === 0) {
      if (stats) options.report!.reject(stats, doc.id, 'no_tokens');
      continue;
    }
    const label =
      options.stratifyBy === undefined ? null : stringOrNull(doc.meta?.[options.stratifyBy]);
    const split = assigner.assign(label ?? '');
    let shard = open.get(split);
    if (!shard) {
      shard = { ids: [], labels: [], chunks: [], offsets: [0], tokens: 0 };
      open.set(split, shard);
    }
    const ids = Int32Array.from(encoded);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i]! < 0 || ids[i]! >= options.tokenizer.vocabSize) {
        throw new DataError(
          `tokenizer produced id ${ids[i]} outside vocabSize ${options.tokenizer.vocabSize} for ${doc.id}`,
          { code: 'BAD_TOKEN', context: { field: 'tokens' } },
        );
      }
    }
    shard.ids.push(doc.id);
    shard.labels.push(label);
    shard.chunks.push(ids);
    shard.tokens += ids.length;
    shard.offsets.push(shard.tokens);
    splits[split]!.documents++;
    splits[split]!.tokens += ids.length;
    if (stats) stats.output++;
    if (shard.tokens >= maxTokens) await flush(split);
  }
  for (const split of [...open.keys()]) await flush(split);
  const manifest: ShardManifest = {
    format: SHARD_FORMAT,
    version: 1,
    columns: ['id', 'tokens', 'label'],
    tokenizer: { vocabSize: options.tokenizer.vocabSize, eosTokenId: eos },
    split: { seed, fractions, stratifyBy: options.stratifyBy ?? null },
    splits,
    strata: assigner.counts(),
  };
  await writeFile(join(options.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function stringOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}
