import { createLoader, writeShards } from '@deepline/data';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { describe, expect, it } from 'vitest';
import { loaderBatchSource } from './loaderSource.js';

/** Bytes as tokens, 256 = EOS: enough of a tokenizer for shards. */
const byteTokenizer = {
  vocabSize: 257,
  eosTokenId: 256,
  encode: (text: string) => [...new TextEncoder().encode(text)],
};

describe('loaderBatchSource over @deepline/data shards', () => {
  it('batches packed sequences and resumes at the exact position', async () => {
    const dir = await makeTempDir('trainer-loader-');
    try {
      const documents = Array.from({ length: 40 }, (_, i) => ({
        id: `d${i}`,
        text: `document ${i}: ${'abcdefgh'.repeat(1 + (i % 5))}`,
      }));
      await writeShards({
        documents,
        tokenizer: byteTokenizer,
        outDir: dir,
        fractions: { train: 1 },
      });
      const open = async () =>
        loaderBatchSource({
          loader: await createLoader({ dir, sequenceLength: 17, seed: 3 }),
          batchSize: 4,
        });
      const a = await open();
      const first = (await a.next())!;
      expect(first.batchSize).toBe(4);
      expect(first.seqLen).toBe(17);
      expect(first.tokens).toHaveLength(68);
      await a.next();
      const saved = JSON.parse(JSON.stringify(a.state()));
      const expected = [(await a.next())!.tokens, (await a.next())!.tokens];
      const b = await open();
      b.restore(saved);
      expect([(await b.next())!.tokens, (await b.next())!.tokens]).toEqual(expected);
    } finally {
      await removeDir(dir);
    }
  });
});
