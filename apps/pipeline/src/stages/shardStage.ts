import { join } from 'node:path';
import { writeShards } from '@deepline/data';
import type { PipelineConfig } from '../config.js';
import { readJsonlRecords } from '../jsonl.js';
import type { Stage } from '../stage.js';
import { loadStageTokenizer } from './tokenizerStage.js';

export const SHARDS_DIR = 'shards';

/** Tokenises the cleaned documents into Arrow IPC shards with a seeded train/validation/test split. */
export const shardStage: Stage<PipelineConfig> = {
  name: 'shard',
  description: 'tokenise into Arrow shards and split',
  dependsOn: ['data', 'tokenizer'],
  configSlice: (c) => ({ shard: c.shard, seed: c.seed }),
  params: (c) => Object.fromEntries(Object.entries(c.shard.fractions).map(([k, v]) => [`fraction_${k}`, v])),
  async run({ config, dir, inputs }) {
    const tokenizer = await loadStageTokenizer(inputs.tokenizer!);
    const documents = join(inputs.data!.dir, inputs.data!.outputs.documents as string);
    // Raw text never produces control tokens: special-token strings in a document are plain text.
    const asText = { allowedSpecial: 'none', disallowedSpecial: 'none', addSpecialTokens: false } as const;
    const manifest = await writeShards({
      documents: readJsonlRecords<{ id: string; text: string }>(documents),
      tokenizer: { encode: (text: string) => tokenizer.encode(text, asText), eosTokenId: tokenizer.eosTokenId, vocabSize: tokenizer.vocabSize },
      outDir: join(dir, SHARDS_DIR),
      fractions: config.shard.fractions,
      seed: config.seed,
    });
    const metrics: Record<string, number> = {};
    for (const [split, entry] of Object.entries(manifest.splits)) {
      metrics[`${split}_documents`] = entry.documents;
      metrics[`${split}_tokens`] = entry.tokens;
    }
    return { outputs: { shards: SHARDS_DIR }, metrics, artifacts: [join(SHARDS_DIR, 'manifest.json')] };
  },
};
