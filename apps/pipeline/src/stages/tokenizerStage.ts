import { join } from 'node:path';
import { Tokenizer, trainBpe } from '@deepline/tokenizer';
import type { PipelineConfig } from '../config.js';
import { readJsonlRecords } from '../jsonl.js';
import type { Stage } from '../stage.js';

export const TOKENIZER_FILE = 'tokenizer.json';
/** DeepSeek-style special tokens: ids 0 and 1 are BOS and EOS. */
export const SPECIAL_TOKENS = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>'];
// Every HELD_OUT_EVERY-th document is kept out of tokenizer training to measure compression.
const HELD_OUT_EVERY = 10;

async function* texts(file: string, heldOut: boolean): AsyncGenerator<string> {
  let index = 0;
  for await (const doc of readJsonlRecords<{ text: string }>(file)) {
    if ((index++ % HELD_OUT_EVERY === 0) === heldOut) yield doc.text;
  }
}

/** Trains a byte-level BPE on the cleaned documents and reports held-out compression. */
export const tokenizerStage: Stage<PipelineConfig> = {
  name: 'tokenizer',
  description: 'train a byte-level BPE tokenizer',
  dependsOn: ['data'],
  configSlice: (c) => c.tokenizer,
  params: (c) => ({ vocab_size: c.tokenizer.vocabSize, min_frequency: c.tokenizer.minFrequency, pattern: c.tokenizer.pattern }),
  async run({ config, dir, inputs, logger }) {
    const documents = join(inputs.data!.dir, inputs.data!.outputs.documents as string);
    const tokenizer = await trainBpe({
      texts: texts(documents, false),
      vocabSize: config.tokenizer.vocabSize,
      minFrequency: config.tokenizer.minFrequency,
      specialTokens: SPECIAL_TOKENS,
      pattern: config.tokenizer.pattern,
      onProgress: (p) => logger.debug('tokenizer progress', { ...p }),
    });
    await tokenizer.save(join(dir, TOKENIZER_FILE));
    let bytes = 0;
    let tokens = 0;
    for await (const text of texts(documents, true)) {
      bytes += Buffer.byteLength(text);
      tokens += tokenizer.encode(text).length;
    }
    return {
      outputs: { tokenizer: TOKENIZER_FILE },
      metrics: { vocab_size: tokenizer.vocabSize, heldout_bytes_per_token: tokens > 0 ? bytes / tokens : 0 },
      artifacts: [TOKENIZER_FILE],
    };
  },
};

export function loadStageTokenizer(result: { dir: string; outputs: Record<string, unknown> }): Promise<Tokenizer> {
  return Tokenizer.fromFile(join(result.dir, result.outputs.tokenizer as string));
}
