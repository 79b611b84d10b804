import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BYTE_TO_CHAR } from '@deepline/tokenizer';
import { tinyDeepseek } from './tinyModel.js';

const SPECIALS = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'];
// A handful of English merges so common words take fewer tokens than bytes.
const MERGES = ['Ġ t', 'h e', 'Ġt he', 'i n', 'Ġ a', 'e r', 'o n', 'Ġ s', 'r e', 'Ġ w', 'a t', 'e n', 'Ġ o', 'o r', 'Ġ h', 'l l', 'Ġ b', 'i s', 'Ġ c', 'e s'];

/** Vocabulary size of the fixture tokenizer (bytes + merges + specials); the tiny model matches it. */
export const TINY_VOCAB = 256 + MERGES.length + SPECIALS.length;

/** tokenizer.json of a byte-level BPE: ids 0–255 are bytes, then merges, then DeepSeek specials. */
export function tinyTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((ch, b) => {
    vocab[ch] = b;
  });
  for (const m of MERGES) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: MERGES },
  };
}

/** Writes a complete HF-style model directory (tiny random DeepSeek + byte-level tokenizer) into `dir`. */
export async function writeTinyModelDir(dir: string, options: { seed?: number; maxSeqLen?: number } = {}): Promise<void> {
  const model = tinyDeepseek({ seed: options.seed ?? 1, maxSeqLen: options.maxSeqLen, vocabSize: TINY_VOCAB });
  try {
    await model.save(dir);
  } finally {
    model.dispose();
  }
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: SPECIALS[0], eos_token: SPECIALS[1] }));
}
