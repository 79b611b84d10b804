import { readFile } from 'node:fs/promises';
import { fail } from '../errors.js';
import type { GgufValue } from './ggufWriter.js';

/** llama.cpp token types (`llama_token_type`). */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;
const TOKEN_UNUSED = 5;

/**
 * Pre-tokenizer names llama.cpp knows (`llama-vocab.cpp`); an unknown one makes it refuse the
 * file. `deepseek-v3` matches the Split regexes of DeepSeek-V3's tokenizer.json.
 */
export const KNOWN_GGUF_PRE_TOKENIZERS = [
  'default',
  'llama3',
  'deepseek-llm',
  'deepseek-coder',
  'deepseek-v3',
  'gpt-2',
  'qwen2',
  'falcon',
  'starcoder',
  'refact',
  'command-r',
  'olmo',
  'dbrx',
  'smaug-bpe',
  'poro-chat',
  'tekken',
] as const;

/** Options of {@link tokenizerGgufMetadata}. */
export interface TokenizerMetadataOptions {
  /** A Hugging Face tokenizer.json: its path or its parsed object (byte-level BPE). */
  tokenizer: string | object;
  /** The model's vocabulary size; ids past the tokenizer's are padded as unused `[PAD<i>]` tokens. */
  vocabSize: number;
  /** `tokenizer.ggml.pre` (default `deepseek-v3`); must be one llama.cpp knows. */
  pre?: string;
  /** BOS id (default: the special added token whose content names begin-of-sentence, if any). */
  bosTokenId?: number;
  /** EOS id (default: the special added token whose content names end-of-sentence, if any). */
  eosTokenId?: number;
  /** `tokenizer.ggml.add_bos_token` (default false). */
  addBosToken?: boolean;
  /** `tokenizer.chat_template`, written when given. */
  chatTemplate?: string;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: unknown[] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

async function loadJson(tokenizer: string | object): Promise<{ json: TokenizerJson; file: string }> {
  if (typeof tokenizer !== 'string') return { json: tokenizer as TokenizerJson, file: '<tokenizer object>' };
  let text: string;
  try {
    text = await readFile(tokenizer, 'utf8');
  } catch (cause) {
    return fail('TOKENIZER_READ', `cannot read tokenizer ${tokenizer}: ${(cause as Error).message}`, { file: tokenizer });
  }
  try {
    return { json: JSON.parse(text) as TokenizerJson, file: tokenizer };
  } catch (cause) {
    return fail('TOKENIZER_INVALID', `${tokenizer}: not valid JSON (${(cause as Error).message})`, { file: tokenizer });
  }
}

function mergeString(m: unknown, i: number, file: string): string {
  if (typeof m === 'string') return m;
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return `${m[0]} ${m[1]}`;
  return fail('TOKENIZER_INVALID', `${file}: model.merges[${i}] must be "a b" or ["a", "b"]`, { file, field: `model.merges[${i}]` });
}

function findSpecial(added: { id: number; content: string; special?: boolean }[], pattern: RegExp): number | undefined {
  return added.find((t) => t.special && pattern.test(t.content))?.id;
}

/**
 * The `tokenizer.ggml.*` metadata of a byte-level BPE tokenizer.json: model `gpt2`, tokens
 * (padded to the model's vocabulary), token types (control for special added tokens),
 * merges as `"a b"` strings, a known `pre` name and BOS/EOS ids.
 */
export async function tokenizerGgufMetadata(options: TokenizerMetadataOptions): Promise<Array<[string, GgufValue]>> {
  const { json, file } = await loadJson(options.tokenizer);
  const model = json.model;
  if (model?.type !== 'BPE' || !model) fail('TOKENIZER_INVALID', `${file}: model.type must be 'BPE', got ${JSON.stringify(model?.type)}`, { file, field: 'model.type' });
  if (!model.vocab || typeof model.vocab !== 'object') fail('TOKENIZER_INVALID', `${file}: model.vocab is missing`, { file, field: 'model.vocab' });
  const pre = options.pre ?? 'deepseek-v3';
  if (!(KNOWN_GGUF_PRE_TOKENIZERS as readonly string[]).includes(pre)) {
    fail('TOKENIZER_PRE', `pre-tokenizer '${pre}' is unknown to llama.cpp (known: ${KNOWN_GGUF_PRE_TOKENIZERS.join(', ')})`, { field: 'pre' });
  }
  const n = options.vocabSize;
  const tokens: (string | undefined)[] = new Array(n).fill(undefined);
  const types = new Int32Array(n).fill(TOKEN_NORMAL);
  const place = (id: number, content: string, field: string) => {
    if (!Number.isInteger(id) || id < 0 || id >= n) {
      fail('TOKENIZER_VOCAB', `${file}: ${field} id ${id} ('${content}') is outside the model vocabulary 0..${n - 1}`, { file, field });
    }
    tokens[id] = content;
  };
  for (const [content, id] of Object.entries(model.vocab)) place(id, content, 'model.vocab');
  const added = json.added_tokens ?? [];
  for (const t of added) {
    place(t.id, t.content, 'added_tokens');
    types[t.id] = t.special ? TOKEN_CONTROL : TOKEN_USER_DEFINED;
  }
  for (let i = 0; i < n; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = TOKEN_UNUSED;
    }
  }
  const merges = (model.merges ?? []).map((m, i) => mergeString(m, i, file));
  const out: Array<[string, GgufValue]> = [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: pre }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', values: tokens as string[] }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', values: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', values: merges }],
  ];
  const bos = options.bosTokenId ?? findSpecial(added, /begin|bos|<s>|startoftext/i);
  const eos = options.eosTokenId ?? findSpecial(added, /end.?of.?sentence|eos|<\/s>|endoftext/i);
  if (bos !== undefined) out.push(['tokenizer.ggml.bos_token_id', { type: 'u32', value: bos }]);
  if (eos !== undefined) out.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: eos }]);
  out.push(['tokenizer.ggml.add_bos_token', { type: 'bool', value: options.addBosToken ?? false }]);
  if (options.chatTemplate !== undefined) out.push(['tokenizer.chat_template', { type: 'string', value: options.chatTemplate }]);
  return out;
}
