import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AddedTokenSpec } from './addedTokens.js';
import { byteLevelToBytes, bytesToByteLevel } from './byteLevel.js';
import { fieldError, MAX_TOKEN_ID, TokenizerError } from './errors.js';
import { PairTable } from './pairTable.js';
import { Tokenizer, type TokenizerMeta } from './tokenizer.js';

const KNOWN_BOS = [
  '<｜begin▁of▁sentence｜>',
  '<|begin_of_text|>',
  '<s>',
  '<bos>',
  '<|startoftext|>',
];
const KNOWN_EOS = [
  '<｜end▁of▁sentence｜>',
  '<|end_of_text|>',
  '<|endoftext|>',
  '</s>',
  '<eos>',
  '<|im_end|>',
];

/** Reads tokenizer.json (a file, or a directory holding one) plus tokenizer_config.json beside it. */
export async function loadTokenizerFile(path: string): Promise<Tokenizer> {
  const info = await stat(path).catch((error) => {
    throw new TokenizerError(`cannot read tokenizer ${path}: ${(error as Error).message}`, {
      code: 'TOKENIZER_IO',
      context: { file: path },
      cause: error,
    });
  });
  const file = info.isDirectory() ? join(path, 'tokenizer.json') : path;
  const json = await readJson(file);
  const configFile = join(dirname(file), 'tokenizer_config.json');
  const config = (await stat(configFile).catch(() => undefined))
    ? await readJson(configFile)
    : undefined;
  return parseTokenizerJson(json, { file, config });
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TokenizerError(`cannot read ${file}: ${(error as Error).message}`, {
      code: 'TOKENIZER_IO',
      context: { file },
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerError(`${file}: not valid JSON: ${(error as Error).message}`, {
      code: 'TOKENIZER_BAD_JSON',
      context: { file },
      cause: error,
    });
  }
}

export interface ParseTokenizerJsonOptions {
  /** File name for error messages. */
  file?: string;
  /** Parsed tokenizer_config.json (bos/eos/pad tokens, chat_template). */
  config?: unknown;
}

/** Builds a Tokenizer from a parsed tokenizer.json object (byte-level BPE). */
export function parseTokenizerJson(
  json: unknown,
  options: ParseTokenizerJsonOptions = {},
): Tokenizer {
  const file = options.file;
  const err = (field: string, problem: string) => fieldError(field, problem, { file });
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw err('(root)', 'expected a JSON object');
  const root = json as Record<string, unknown>;
  const model = root.model as Record<string, unknown> | undefined;
  if (!model || typeof model !== 'object') throw err('model', 'missing or not an object');
  if (model.type !== undefined && model.type !== 'BPE')
    throw err('model.type', `only "BPE" is supported, got ${JSON.stringify(model.type)}`);
  if (typeof model.dropout === 'number' && model.dropout > 0)
    throw err('model.dropout', 'BPE dropout is not supported (encoding must be deterministic)');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key] !== null && model[key] !== undefined && model[key] !== '')
      throw err(`model.${key}`, 'not supported for byte-level BPE');
  }
  const vocab = model.vocab;
  if (!vocab || typeof vocab !== 'object' || Array.isArray(vocab))
    throw err('model.vocab', 'expected an object of token → id');
  const tokenBytes: (Uint8Array | undefined)[] = [];
  const addedContents = new Set(
    Array.isArray(root.added_tokens) ? root.added_tokens.map((t: any) => t?.content) : [],
  );
  const otherVocab = new Map<number, string>();
  const ids = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID)
      throw err(
        `model.vocab[${JSON.stringify(token)}]`,
        `expected an integer id in 0..${MAX_TOKEN_ID}, got ${JSON.stringify(id)}`,
      );
    ids.set(token, id);
    // Added tokens listed in the vocab are matched as added tokens, never reached by merges.
    const bytes = addedContents.has(token) ? undefined : byteLevelToBytes(token);
    if (bytes) tokenBytes[id] = bytes;
    else otherVocab.set(id, token);
  }
  const merges = parseMerges(model.merges, ids, file);
  const pairs = new PairTable(merges.length / 3);
  for (let k = 0; k < merges.length; k += 3)
    pairs.set(merges[k]!, merges[k + 1]!, k / 3, merges[k + 2]!);
  const flat = new Int32Array((merges.length / 3) * 2);
  for (let k = 0, j = 0; k < merges.length; k += 3) {
    flat[j++] = merges[k]!;
    flat[j++] = merges[k + 1]!;
  }
  const addedTokens = parseAddedTokens(root.added_tokens, file);
  if (root.pre_tokenizer === null || root.pre_tokenizer === undefined)
    throw err('pre_tokenizer', 'a byte-level BPE needs a ByteLevel pre-tokenizer (got null)');
  checkDecoder(root.decoder, 'decoder', file);
  const meta = readMeta(options.config, addedTokens, file);
  try {
    return new Tokenizer({
      tokenBytes,
      otherVocab,
      pairs,
      merges: flat,
      ignoreMerges: model.ignore_merges === true,
      addedTokens,
      normalizer: root.normalizer ?? null,
      preTokenizer: root.pre_tokenizer,
      postProcessor: root.post_processor ?? null,
      decoder: root.decoder ?? null,
      defaults: { allowedSpecial: 'all', disallowedSpecial: 'none' },
      meta,
      source: file ?? 'tokenizer.json',
    });
  } catch (error) {
    if (error instanceof TokenizerError && file && !error.context.file) {
      throw new TokenizerError(`${file}: ${error.message}`, {
        code: error.code,
        context: { ...error.context, file },
        cause: error,
      });
    }
    throw error;
  }
}

/** Merges as flat (left, right, merged) id triples in rank order; both tokenizer.json forms. */
function parseMerges(merges: unknown, ids: Map<string, number>, file?: string): Int32Array {
  if (!Array.isArray(merges)) throw fieldError('model.merges', 'expected an array', { file });
  const out = new Int32Array(merges.length * 3);
  for (let k = 0; k < merges.length; k++) {
    const m = merges[k];
    let a: unknown;
    let b: unknown;
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2)
        throw fieldError(
          `model.merges[${k}]`,
          `expected "left right" with one space, got ${JSON.stringify(m)}`,
          { file },
        );
      [a, b] = parts;
    } else if (Array.isArray(m) && m.length === 2) [a, b] = m;
    else
      throw fieldError(
        `model.merges[${k}]`,
        `expected "a b" or ["a", "b"], got ${JSON.stringify(m)}`,
        { file },
      );
    if (typeof a !== 'string' || typeof b !== 'string')
      throw fieldError(`model.merges[${k}]`, 'merge parts must be strings', { file });
    const ia = ids.get(a);
    const ib = ids.get(b);
    const im = ids.get(a + b);
    for (const [part, id] of [
      [a, ia],
      [b, ib],
      [a + b, im],
    ] as const) {
      if (id === undefined)
        throw fieldError(
          `model.merges[${k}]`,
          `token ${JSON.stringify(part)} is not in model.vocab`,
          { file },
        );
    }
    out[k * 3] = ia!;
    out[k * 3 + 1] = ib!;
    out[k * 3 + 2] = im!;
  }
  return out;
}

function parseAddedTokens(list: unknown, file?: string): AddedTokenSpec[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw fieldError('added_tokens', 'expected an array', { file });
  return list.map((t, i) => {
    const field = `added_tokens[${i}]`;
    if (!t || typeof t !== 'object') throw fieldError(field, 'expected an object', { file });
    const o = t as Record<string, unknown>;
    if (typeof o.id !== 'number' || !Number.isInteger(o.id) || o.id < 0 || o.id > MAX_TOKEN_ID)
      throw fieldError(
        `${field}.id`,
        `expected an integer id in 0..${MAX_TOKEN_ID}, got ${JSON.stringify(o.id)}`,
        { file },
      );
    if (typeof o.content !== 'string' || o.content.length === 0)
      throw fieldError(`${field}.content`, 'expected a non-empty string', { file });
    return {
      id: o.id,
      content: o.content,
      special: o.special === true,
      lstrip: o.lstrip === true,
      rstrip: o.rstrip === true,
      singleWord: o.single_word === true,
      normalized: o.normalized === true,
    };
  });
}

function checkDecoder(json: unknown, field: string, file?: string): void {
  if (json === null || json === undefined) return;
  const o = json as Record<string, unknown>;
  if (o.type === 'ByteLevel') return;
  if (o.type === 'Sequence' && Array.isArray(o.decoders)) {
    o.decoders.forEach((d, i) => {
      checkDecoder(d, `${field}.decoders[${i}]`, file);
    });
    return;
  }
  throw fieldError(
    `${field}.type`,
    `a byte-level BPE decodes with ByteLevel; ${JSON.stringify(o.type)} is not supported`,
    { file },
  );
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    value &&
    typeof value === 'object' &&
    typeof (value as { content?: unknown }).content === 'string'
  )
    return (value as { content: string }).content;
  return undefined;
}

function readMeta(config: unknown, added: AddedTokenSpec[], file?: string): TokenizerMeta {
  const c = (config && typeof config === 'object' ? config : {}) as Record<string, unknown>;
  const has = new Set(added.map((t) => t.content));
  let chatTemplate: string | undefined;
  if (typeof c.chat_template === 'string') chatTemplate = c.chat_template;
  else if (Array.isArray(c.chat_template)) {
    const entry = c.chat_template.find((t: any) => t?.name === 'default') ?? c.chat_template[0];
    if (typeof entry?.template !== 'string')
      throw fieldError('chat_template', 'expected a string or [{name, template}]', { file });
    chatTemplate = entry.template;
  }
  return {
    bosToken: tokenName(c.bos_token) ?? KNOWN_BOS.find((t) => has.has(t)),
    eosToken: tokenName(c.eos_token) ?? KNOWN_EOS.find((t) => has.has(t)),
    padToken: tokenName(c.pad_token),
    chatTemplate,
  };
}

/** Merges of a tokenizer in rank order as (left, right) ids; rebuilt from ranks for tiktoken. */
function mergeList(tokenizer: Tokenizer): Int32Array {
  if (tokenizer.parts.merges) return tokenizer.parts.merges;
  // tiktoken: a token's merge is the two parts BPE reaches using only lower ranks
  // (the conversion tokenizers and transformers use), listed in rank order.
  const out: number[] = [];
  tokenizer.parts.tokenBytes.forEach((bytes, id) => {
    if (!bytes || bytes.length < 2) return;
    const parts = tokenizer.mergeWithRankLimit(bytes, id);
    if (parts.length === 2) out.push(parts[0]!, parts[1]!);
  });
  return Int32Array.from(out);
}

/** The tokenizer.json object for a tokenizer, in the field order tokenizers writes. */
export function tokenizerToJson(tokenizer: Tokenizer): Record<string, unknown> {
  const parts = tokenizer.parts;
  const names: string[] = [];
  parts.tokenBytes.forEach((b, id) => {
    if (b) names[id] = bytesToByteLevel(b);
  });
  for (const [id, token] of parts.otherVocab) names[id] = token;
  // Added tokens go into the vocab too (as transformers writes them): tokenizers otherwise
  // renumbers added tokens whose ids are not in model.vocab.
  for (const t of parts.addedTokens) names[t.id] ??= t.content;
  const vocab: Record<string, number> = {};
  names.forEach((name, id) => {
    if (name !== undefined) vocab[name] = id;
  });
  const flat = mergeList(tokenizer);
  const merges: [string, string][] = [];
  for (let k = 0; k < flat.length; k += 2) merges.push([names[flat[k]!]!, names[flat[k + 1]!]!]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: parts.addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      single_word: t.singleWord ?? false,
      lstrip: t.lstrip ?? false,
      rstrip: t.rstrip ?? false,
      normalized: t.normalized ?? false,
      special: t.special,
    })),
    normalizer: parts.normalizer ?? null,
    pre_tokenizer: parts.preTokenizer,
    post_processor: parts.postProcessor ?? null,
    decoder: parts.decoder ?? {
      type: 'ByteLevel',
      add_prefix_space: true,
      trim_offsets: true,
      use_regex: true,
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: parts.ignoreMerges,
      vocab,
      merges,
    },
  };
}

/** Writes tokenizer.json; with metadata, also tokenizer_config.json when the file is named tokenizer.json. */
export async function saveTokenizerFile(
  tokenizer: Tokenizer,
  path: string,
  options: { withConfig?: boolean } = {},
): Promise<void> {
  const json = tokenizerToJson(tokenizer);
  try {
    await writeFile(path, `${JSON.stringify(json)}\n`);
    const meta = tokenizer.meta;
    const hasMeta = meta.bosToken || meta.eosToken || meta.padToken || meta.chatTemplate;
    if (options.withConfig !== false && hasMeta && basename(path) === 'tokenizer.json') {
      const config: Record<string, unknown> = { tokenizer_class: 'PreTrainedTokenizerFast' };
      if (meta.bosToken) config.bos_token = meta.bosToken;
      if (meta.eosToken) config.eos_token = meta.eosToken;
      if (meta.padToken) config.pad_token = meta.padToken;
      if (meta.chatTemplate) config.chat_template = meta.chatTemplate;
      await writeFile(
        join(dirname(path), 'tokenizer_config.json'),
        `${JSON.stringify(config, null, 2)}\n`,
      );
    }
  } catch (error) {
    throw new TokenizerError(`cannot write ${path}: ${(error as Error).message}`, {
      code: 'TOKENIZER_IO',
      context: { file: path },
      cause: error,
    });
  }
}
