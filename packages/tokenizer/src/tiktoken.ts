import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AddedTokenSpec } from './addedTokens.js';
import { latin1 } from './bpeModel.js';
import { fieldError, MAX_TOKEN_ID, TokenizerError } from './errors.js';
import { PairTable } from './pairTable.js';
import { GPT2_PATTERN, O200K_PATTERN } from './pattern.js';
import { Tokenizer } from './tokenizer.js';

/** Encodings shipped as rank modules inside the js-tiktoken package. */
export const TIKTOKEN_ENCODINGS = [
  'gpt2',
  'r50k_base',
  'p50k_base',
  'p50k_edit',
  'cl100k_base',
  'o200k_base',
] as const;
export type TiktokenEncodingName = (typeof TIKTOKEN_ENCODINGS)[number];

/** js-tiktoken's own cl100k pattern: tiktoken's, with (?i:) and possessive quantifiers spelled out. */
const CL100K_JS_PATTERN =
  "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Defaults for raw `.tiktoken` files, which carry neither pattern nor special tokens. */
const RAW_DEFAULTS: Record<string, { pattern: string; special: Record<string, number> }> = {
  cl100k_base: {
    pattern: CL100K_JS_PATTERN,
    special: {
      '<|endoftext|>': 100257,
      '<|fim_prefix|>': 100258,
      '<|fim_middle|>': 100259,
      '<|fim_suffix|>': 100260,
      '<|endofprompt|>': 100276,
    },
  },
  o200k_base: {
    pattern: O200K_PATTERN,
    special: { '<|endoftext|>': 199999, '<|endofprompt|>': 200018 },
  },
  r50k_base: { pattern: GPT2_PATTERN, special: { '<|endoftext|>': 50256 } },
  gpt2: { pattern: GPT2_PATTERN, special: { '<|endoftext|>': 50256 } },
  p50k_base: { pattern: GPT2_PATTERN, special: { '<|endoftext|>': 50256 } },
};

export interface TiktokenOptions {
  /** Pre-tokenizer pattern, overriding the file's (needed for raw .tiktoken files of unknown name). */
  pattern?: string;
  /** Special tokens, content → id, added to (and overriding) the file's. */
  specialTokens?: Record<string, number>;
}

/** Rank data in the `{pat_str, special_tokens, bpe_ranks}` form of js-tiktoken and tiktoken (npm). */
export interface TiktokenRankData {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

/** Loads an encoding by name (from js-tiktoken) or a rank file: js-tiktoken .js/.json, tiktoken encoders/*.json, or raw .tiktoken. */
export async function loadTiktoken(
  nameOrFile: string,
  options: TiktokenOptions = {},
): Promise<Tokenizer> {
  if ((TIKTOKEN_ENCODINGS as readonly string[]).includes(nameOrFile)) {
    const data = await importRanks(nameOrFile as TiktokenEncodingName);
    return tiktokenFromRankData(data, { ...options, name: nameOrFile });
  }
  let text: string;
  try {
    text = await readFile(nameOrFile, 'utf8');
  } catch (error) {
    throw new TokenizerError(
      `${nameOrFile} is neither a known encoding (${TIKTOKEN_ENCODINGS.join(', ')}) nor a readable rank file: ${(error as Error).message}`,
      { code: 'TOKENIZER_IO', context: { file: nameOrFile }, cause: error },
    );
  }
  const name = basename(nameOrFile).replace(/\.(tiktoken|json|js|cjs|mjs)$/, '');
  const trimmed = text.trim();
  if (/^(export default|module\.exports\s*=|\{)/.test(trimmed)) {
    const body = trimmed
      .replace(/^export default\s*/, '')
      .replace(/^module\.exports\s*=\s*/, '')
      .replace(/;\s*$/, '');
    let data: unknown;
    try {
      data = JSON.parse(body);
    } catch (error) {
      throw new TokenizerError(
        `${nameOrFile}: rank file is not valid JSON: ${(error as Error).message}`,
        { code: 'TOKENIZER_BAD_JSON', context: { file: nameOrFile }, cause: error },
      );
    }
    return tiktokenFromRankData(data, { ...options, name, file: nameOrFile });
  }
  return tiktokenFromRawRanks(text, { ...options, name, file: nameOrFile });
}

async function importRanks(name: TiktokenEncodingName): Promise<unknown> {
  const loaders: Record<TiktokenEncodingName, () => Promise<{ default: unknown }>> = {
    gpt2: () => import('js-tiktoken/ranks/gpt2'),
    r50k_base: () => import('js-tiktoken/ranks/r50k_base'),
    p50k_base: () => import('js-tiktoken/ranks/p50k_base'),
    p50k_edit: () => import('js-tiktoken/ranks/p50k_edit'),
    cl100k_base: () => import('js-tiktoken/ranks/cl100k_base'),
    o200k_base: () => import('js-tiktoken/ranks/o200k_base'),
  };
  return (await loaders[name]()).default;
}

/** Builds a tokenizer from parsed `{pat_str, special_tokens, bpe_ranks}` data. */
export function tiktokenFromRankData(
  data: unknown,
  options: TiktokenOptions & { name?: string; file?: string } = {},
): Tokenizer {
  const file = options.file;
  if (!data || typeof data !== 'object')
    throw fieldError('(root)', 'expected {pat_str, special_tokens, bpe_ranks}', { file });
  const d = data as Record<string, unknown>;
  if (typeof d.pat_str !== 'string' && options.pattern === undefined)
    throw fieldError('pat_str', 'expected a string', { file });
  if (typeof d.bpe_ranks !== 'string')
    throw fieldError('bpe_ranks', 'expected a string of "<tag> <offset> <base64>..." lines', {
      file,
    });
  const special = d.special_tokens ?? {};
  if (typeof special !== 'object' || Array.isArray(special))
    throw fieldError('special_tokens', 'expected an object of token → id', { file });
  const ranks: Uint8Array[] = [];
  d.bpe_ranks.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const [, offsetText, ...tokens] = line.split(' ');
    const offset = Number(offsetText);
    if (!Number.isInteger(offset) || offset < 0)
      throw fieldError(
        `bpe_ranks line ${index + 1}`,
        `bad rank offset ${JSON.stringify(offsetText)}`,
        { file, line: index + 1 },
      );
    tokens.forEach((b64, k) => {
      setRank(
        ranks,
        offset + k,
        decodeBase64(b64, `bpe_ranks line ${index + 1}`, file, index + 1),
        file,
        index + 1,
      );
    });
  });
  return buildTiktoken(
    ranks,
    (options.pattern ?? d.pat_str) as string,
    { ...(special as Record<string, number>), ...options.specialTokens },
    options,
  );
}

/** Builds a tokenizer from a raw `.tiktoken` file: one "<base64 token> <rank>" per line. */
export function tiktokenFromRawRanks(
  text: string,
  options: TiktokenOptions & { name?: string; file?: string } = {},
): Tokenizer {
  const file = options.file;
  const ranks: Uint8Array[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const parts = line.trim().split(' ');
    const rank = Number(parts[1]);
    if (parts.length !== 2 || !Number.isInteger(rank) || rank < 0) {
      throw fieldError(
        `line ${index + 1}`,
        `expected "<base64 token> <rank>", got ${JSON.stringify(line.slice(0, 80))}`,
        { file, line: index + 1 },
      );
    }
    setRank(
      ranks,
      rank,
      decodeBase64(parts[0]!, `line ${index + 1}`, file, index + 1),
      file,
      index + 1,
    );
  });
  const defaults = RAW_DEFAULTS[options.name ?? ''];
  const pattern = options.pattern ?? defaults?.pattern;
  if (pattern === undefined)
    throw fieldError(
      'pattern',
      `raw rank file ${file ?? ''} has no pattern; pass options.pattern`,
      { file },
    );
  return buildTiktoken(ranks, pattern, { ...defaults?.special, ...options.specialTokens }, options);
}

function setRank(
  ranks: Uint8Array[],
  rank: number,
  bytes: Uint8Array,
  file: string | undefined,
  line: number,
): void {
  if (rank > MAX_TOKEN_ID)
    throw fieldError(`rank ${rank}`, `ranks above ${MAX_TOKEN_ID} are not supported`, {
      file,
      line,
    });
  if (ranks[rank] !== undefined) throw fieldError(`rank ${rank}`, 'appears twice', { file, line });
  ranks[rank] = bytes;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(
  b64: string,
  field: string,
  file: string | undefined,
  line: number,
): Uint8Array {
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64))
    throw fieldError(field, `invalid base64 token ${JSON.stringify(b64.slice(0, 40))}`, {
      file,
      line,
    });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function buildTiktoken(
  ranks: Uint8Array[],
  pattern: string,
  special: Record<string, number>,
  options: { name?: string; file?: string },
): Tokenizer {
  const file = options.file;
  const byBytes = new Map<string, number>();
  const keys: string[] = [];
  ranks.forEach((bytes, rank) => {
    const key = latin1(bytes);
    keys[rank] = key;
    byBytes.set(key, rank);
  });
  for (let b = 0; b < 256; b++) {
    if (!byBytes.has(String.fromCharCode(b))) {
      throw fieldError(
        'bpe_ranks',
        `byte ${b} has no rank; tiktoken encodings cover all 256 bytes`,
        { file },
      );
    }
  }
  // tiktoken merges the adjacent pair whose concatenation has the lowest rank, so two tokens
  // merge exactly when their bytes concatenate to a token, at that token's rank. Pairs are
  // resolved on first use, which keeps loading to one Map build.
  const pairs = new PairTable(1 << 16);
  pairs.resolver = (a, b) => {
    const rank = byBytes.get(keys[a]! + keys[b]!);
    return rank === undefined ? undefined : [rank, rank];
  };
  const addedTokens: AddedTokenSpec[] = Object.entries(special).map(([content, id]) => {
    if (!Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID)
      throw fieldError(
        `special_tokens[${JSON.stringify(content)}]`,
        `expected a non-negative integer id, got ${JSON.stringify(id)}`,
        { file },
      );
    return { id, content, special: true };
  });
  return new Tokenizer({
    tokenBytes: ranks,
    byteIndex: byBytes,
    otherVocab: new Map(),
    pairs,
    ignoreMerges: true,
    addedTokens,
    normalizer: null,
    preTokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: pattern }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    postProcessor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    defaults: { allowedSpecial: 'none', disallowedSpecial: 'all' },
    meta: {
      name: options.name,
      eosToken: '<|endoftext|>' in special ? '<|endoftext|>' : undefined,
    },
    source: file ?? options.name ?? 'tiktoken',
  });
}
