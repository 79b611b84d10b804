import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProgressReporter } from '@deepline/core';
import { DEEPSEEK_SPECIAL_TOKENS, TIKTOKEN_ENCODINGS, Tokenizer, trainBpe } from '@deepline/tokenizer';
import { type Command, UsageError, parseFlags } from '../command.js';

const SUBCOMMANDS = ['train', 'encode', 'decode', 'info'] as const;
type Sub = (typeof SUBCOMMANDS)[number];
/** Texts handed to the trainer are cut at line ends once they pass this size (bounded memory). */
const CHUNK_CHARS = 1 << 16;

export const tokenizerCommand: Command = {
  name: 'tokenizer',
  summary: 'Train a byte-level BPE, encode/decode text, or describe a tokenizer (tokenizer.json or tiktoken)',
  usage: [
    'deepline tokenizer <train|encode|decode|info> [options]',
    '  train   INPUT… --vocab-size N --out DIR|tokenizer.json [--min-frequency N] [--special-tokens a,b | --deepseek-specials]',
    '          [--pattern gpt2|cl100k|o200k|deepseek|REGEX] [--max-words N] [--json]   (INPUT: .txt/.md files, .jsonl with "text", or directories)',
    '  encode  --tokenizer T [--text TEXT | stdin] [--offsets] [--allow-special] [--json]',
    '  decode  --tokenizer T [IDS… | stdin]   (ids separated by spaces, commas or newlines)',
    '  info    --tokenizer T [--json]',
    '  T: a tokenizer.json file or its directory, a tiktoken rank file, or tiktoken:NAME (cl100k_base, o200k_base, …)',
  ].join('\n'),
  async run({ argv, stdout, stderr }) {
    const [sub, ...rest] = argv;
    if (!sub || !SUBCOMMANDS.includes(sub as Sub)) throw new UsageError(`expected one of ${SUBCOMMANDS.join('|')}, got '${sub ?? ''}'`);
    const { values, positionals } = parseFlags(rest, {
      tokenizer: { type: 'string' },
      text: { type: 'string' },
      out: { type: 'string' },
      'vocab-size': { type: 'string' },
      'min-frequency': { type: 'string' },
      'special-tokens': { type: 'string' },
      'deepseek-specials': { type: 'boolean' },
      pattern: { type: 'string' },
      'max-words': { type: 'string' },
      offsets: { type: 'boolean' },
      'allow-special': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (sub === 'train') {
      if (positionals.length === 0) throw new UsageError('train needs at least one input file or directory');
      if (!values.out) throw new UsageError('train needs --out DIR or --out path/tokenizer.json');
      const vocabSize = intFlag(values['vocab-size'], '--vocab-size');
      if (vocabSize === undefined) throw new UsageError('train needs --vocab-size N');
      const specials = values['deepseek-specials'] ? [...DEEPSEEK_SPECIAL_TOKENS] : splitList(values['special-tokens']);
      const progress = new ProgressReporter({ label: 'tokenizer train', stream: stderr, mode: values.json ? 'json' : undefined });
      const tokenizer = await trainBpe({
        texts: readTexts(positionals),
        vocabSize,
        minFrequency: intFlag(values['min-frequency'], '--min-frequency'),
        maxWords: intFlag(values['max-words'], '--max-words'),
        specialTokens: specials,
        pattern: values.pattern,
        onProgress: (p) => progress.update(p.phase === 'count' ? p.texts : p.merges, { phase: p.phase, words: p.words, merges: p.merges }),
      });
      progress.finish({ vocab: tokenizer.vocabSize });
      const file = values.out.endsWith('.json') ? values.out : join(values.out, 'tokenizer.json');
      if (!values.out.endsWith('.json')) await mkdir(values.out, { recursive: true });
      await tokenizer.save(file);
      stdout.write(values.json ? `${JSON.stringify({ file, vocabSize: tokenizer.vocabSize })}\n` : `wrote ${file} (vocab ${tokenizer.vocabSize})\n`);
      return 0;
    }
    if (!values.tokenizer) throw new UsageError(`${sub} needs --tokenizer`);
    const tokenizer = await loadTokenizer(values.tokenizer);
    if (sub === 'info') {
      const info = {
        source: tokenizer.parts.source,
        vocabSize: tokenizer.vocabSize,
        specialTokens: tokenizer.specialTokens,
        bosTokenId: tokenizer.bosTokenId ?? null,
        eosTokenId: tokenizer.eosTokenId ?? null,
        padTokenId: tokenizer.padTokenId ?? null,
        chatTemplate: tokenizer.meta.chatTemplate !== undefined,
      };
      if (values.json) stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else {
        const specials = Object.entries(info.specialTokens);
        stdout.write(
          [
            `source        ${info.source}`,
            `vocab size    ${info.vocabSize}`,
            `bos / eos     ${info.bosTokenId ?? '-'} / ${info.eosTokenId ?? '-'}`,
            `chat template ${info.chatTemplate ? 'yes' : 'no'}`,
            `special       ${specials.length}${specials.length ? `: ${specials.slice(0, 8).map(([t, id]) => `${t}=${id}`).join(' ')}${specials.length > 8 ? ' …' : ''}` : ''}`,
            '',
          ].join('\n'),
        );
      }
      return 0;
    }
    if (sub === 'encode') {
      const text = values.text ?? (await readStdin());
      const options = values['allow-special'] ? { allowedSpecial: 'all' as const } : { allowedSpecial: 'none' as const, disallowedSpecial: 'none' as const };
      if (values.offsets || values.json) {
        const enc = values.offsets ? tokenizer.encodeWithOffsets(text, options) : { ids: tokenizer.encode(text, options) };
        stdout.write(`${JSON.stringify(enc)}\n`);
      } else stdout.write(`${tokenizer.encode(text, options).join(' ')}\n`);
      return 0;
    }
    const raw = positionals.length > 0 ? positionals.join(' ') : await readStdin();
    const ids = raw
      .split(/[\s,[\]]+/)
      .filter(Boolean)
      .map((t) => {
        const id = Number(t);
        if (!Number.isInteger(id) || id < 0) throw new UsageError(`not a token id: '${t}'`);
        return id;
      });
    stdout.write(tokenizer.decode(ids));
    if (!values.json) stdout.write('\n');
    return 0;
  },
};

function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer, got '${value}'`);
  return n;
}

function splitList(value: string | undefined): string[] {
  return value ? value.split(',').filter(Boolean) : [];
}

async function loadTokenizer(spec: string): Promise<Tokenizer> {
  if (spec.startsWith('tiktoken:')) {
    const name = spec.slice('tiktoken:'.length);
    if (!(TIKTOKEN_ENCODINGS as readonly string[]).includes(name)) throw new UsageError(`unknown tiktoken encoding '${name}' (known: ${TIKTOKEN_ENCODINGS.join(', ')})`);
    return Tokenizer.fromTiktoken(name);
  }
  if (/\.tiktoken$/.test(spec) || (/\.(js|cjs|mjs)$/.test(spec))) return Tokenizer.fromTiktoken(spec);
  return Tokenizer.fromFile(spec);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Streams training texts from files and directories, a bounded chunk at a time. */
async function* readTexts(inputs: string[]): AsyncGenerator<string> {
  for (const input of inputs) {
    const info = await stat(input).catch(() => {
      throw new UsageError(`cannot read input '${input}'`);
    });
    if (info.isDirectory()) {
      const entries = (await readdir(input)).filter((e) => !basename(e).startsWith('.')).sort();
      yield* readTexts(entries.map((e) => join(input, e)));
      continue;
    }
    const jsonl = extname(input) === '.jsonl';
    const lines = createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
    let chunk = '';
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (jsonl) {
        if (line.trim() === '') continue;
        let text: unknown;
        try {
          text = (JSON.parse(line) as { text?: unknown }).text;
        } catch {
          throw new UsageError(`${input}:${lineNo}: not valid JSON`);
        }
        if (typeof text !== 'string') throw new UsageError(`${input}:${lineNo}: no string "text" field`);
        yield text;
        continue;
      }
      chunk += `${line}\n`;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
}
