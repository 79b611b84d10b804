import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DataError } from '../errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const SHARD_FORMAT = 'deepline-token-shards';

const shardEntry = z.object({
  file: z.string(),
  documents: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const splitEntry = z.object({
  documents: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  shards: z.array(shardEntry),
});

export const manifestSchema = z.object({
  format: z.literal(SHARD_FORMAT),
  version: z.literal(1),
  /** Arrow schema of every shard: id (utf8), tokens (list<int32>), label (utf8, nullable). */
  columns: z.array(z.string()),
  tokenizer: z.object({
    vocabSize: z.number().int().positive(),
    eosTokenId: z.number().int().nonnegative(),
  }),
  split: z.object({
    seed: z.number().int(),
    fractions: z.record(z.string(), z.number()),
    stratifyBy: z.string().nullable(),
  }),
  splits: z.record(z.string(), splitEntry),
  /** Documents per stratum and split (stratum '' when not stratified). */
  strata: z.record(z.string(), z.record(z.string(), z.number().int().nonnegative())),
});

/** The manifest.json written beside the shards. */
export type ShardManifest = z.output<typeof manifestSchema>;
export type ShardEntry = z.output<typeof shardEntry>;

/** Reads and validates `<dir>/manifest.json`; errors name the file and field. */
export async function readManifest(dir: string): Promise<ShardManifest> {
  const file = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new DataError(`cannot read shard manifest ${file}: ${(cause as Error).message}`, {
      code: 'MANIFEST',
      context: { file },
      cause,
    });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    throw new DataError(`invalid shard manifest ${file}: ${field}: ${issue.message}`, {
      code: 'MANIFEST',
      context: { file, field },
    });
  }
  return parsed.data;
}
