import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { Tiktoken } from 'js-tiktoken/lite';
import { get_encoding } from 'tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { ADVERSARIAL, fnv1aIds, randomUnicodeStrings, sotuDocs } from './testing/corpus.js';
import { loadTiktoken } from './tiktoken.js';
import type { Tokenizer } from './tokenizer.js';

const require = createRequire(import.meta.url);
const docs = sotuDocs();
// Whole-corpus id-stream hashes measured with js-tiktoken, tiktoken (wasm), gpt-tokenizer and
// HF tokenizers, all identical (../shared/reference/anchors.md §1b).
const ANCHORS = {
  cl100k_base: { tokens: 2_085_487, fnv: 0xbedd5043 },
  o200k_base: { tokens: 2_079_288, fnv: 0xf07e0547 },
};
const asText = { allowedSpecial: 'none', disallowedSpecial: 'none' } as const;

describe.each(['cl100k_base', 'o200k_base'] as const)('%s matches tiktoken', (name) => {
  let ours: Tokenizer;
  let js: Tiktoken;
  let wasm: ReturnType<typeof get_encoding>;
  beforeAll(async () => {
    ours = await loadTiktoken(name);
    js = new Tiktoken((await import(`js-tiktoken/ranks/${name}`)).default);
    wasm = get_encoding(name);
  });
  afterAll(() => wasm.free());

  it('reproduces the whole-SOTU id stream (count and FNV-1a of every id)', () => {
    const ids = docs.flatMap((d) => ours.encode(d));
    expect(ids.length).toBe(ANCHORS[name].tokens);
    expect(fnv1aIds(ids)).toBe(ANCHORS[name].fnv);
  });

  it('is token-for-token identical to js-tiktoken on a deterministic SOTU sample', () => {
    // Every 12th address (~0.9 MB): js-tiktoken runs at ~2.5 MB/s, the whole corpus is in the parity bench.
    for (let i = 0; i < docs.length; i += 12)
      expect(ours.encode(docs[i]!)).toEqual(js.encode(docs[i]!));
  });

  it('is identical to js-tiktoken and tiktoken (wasm) on adversarial and random strings', () => {
    for (const s of [...ADVERSARIAL, ...randomUnicodeStrings(200, 7)]) {
      const got = ours.encode(s, asText);
      expect(got, JSON.stringify(s)).toEqual(js.encode(s, [], []));
      expect(got, JSON.stringify(s)).toEqual(Array.from(wasm.encode(s, [], [])));
    }
  });

  it('follows Rust tiktoken where js-tiktoken differs (\\s is Unicode White_Space)', () => {
    for (const s of ['a  \ufeff\ufeff b', 'x\u0085\u0085 y', ' \u0085\n']) {
      expect(ours.encode(s)).toEqual(Array.from(wasm.encode(s)));
    }
  });

  it('decodes back to the input, and round-trips lone surrogates and invalid bytes', () => {
    for (const s of [...ADVERSARIAL, '\ud800x', 'a\udc00', '\udfff\ud800'])
      expect(ours.decode(ours.encode(s, asText))).toBe(s);
    const bytes = Uint8Array.of(
      0x66,
      0xff,
      0xc3,
      0x28,
      0xe2,
      0x82,
      0xf0,
      0x9f,
      0x98,
      0x80,
      0xed,
      0xa0,
      0x80,
    );
    expect(ours.decodeBytes(ours.encode(bytes))).toEqual(bytes);
  });

  it('handles special tokens as tiktoken does: disallowed by default, allowed on request, or text', () => {
    const text = 'a<|endoftext|>b';
    expect(() => ours.encode(text)).toThrow(TokenizerError);
    expect(() => ours.encode(text)).toThrow(/disallowed special token "<\|endoftext\|>"/);
    expect(ours.encode(text, { allowedSpecial: 'all' })).toEqual(js.encode(text, 'all'));
    expect(ours.encode(text, { allowedSpecial: ['<|endoftext|>'] })).toEqual(
      js.encode(text, ['<|endoftext|>']),
    );
    expect(ours.encode(text, asText)).toEqual(js.encode(text, [], []));
    expect(ours.eosTokenId).toBe(ours.specialTokens['<|endoftext|>']);
  });
});

describe('rank file formats and errors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => removeDir(dir));

  const sample = 'Rank files: tiktoken’s JSON, js-tiktoken’s module, and raw .tiktoken — 123 😀';

  it('loads the tiktoken package encoders/*.json, the js-tiktoken rank module and a raw .tiktoken file identically', async () => {
    const reference = await loadTiktoken('cl100k_base');
    const expected = reference.encode(sample);
    const jsonFile = join(dirname(require.resolve('tiktoken')), 'encoders', 'cl100k_base.json');
    expect((await loadTiktoken(jsonFile)).encode(sample)).toEqual(expected);
    const moduleFile = join(dirname(require.resolve('js-tiktoken')), 'ranks', 'cl100k_base.js');
    expect((await loadTiktoken(moduleFile)).encode(sample)).toEqual(expected);
    // A raw file written from the ranks as OpenAI publishes them: "<base64> <rank>" per line.
    const data = JSON.parse(readFileSync(jsonFile, 'utf8')) as { bpe_ranks: string };
    const lines: string[] = [];
    for (const line of data.bpe_ranks.split('\n')) {
      const [, offset, ...tokens] = line.split(' ');
      for (const [k, t] of tokens.entries()) lines.push(`${t} ${Number(offset) + k}`);
    }
    const raw = join(dir, 'cl100k_base.tiktoken');
    writeFileSync(raw, `${lines.join('\n')}\n`);
    const fromRaw = await loadTiktoken(raw);
    expect(fromRaw.encode(sample)).toEqual(expected);
    expect(fromRaw.specialTokens['<|endoftext|>']).toBe(100257);
  });

  it('names the line or field of a malformed rank file', async () => {
    const bad = async (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return loadTiktoken(file).then(
        () => undefined,
        (e: unknown) => e as TokenizerError,
      );
    };
    const e1 = await bad('x.tiktoken', 'IQ== 0\nIg== zero\n');
    expect(e1).toBeInstanceOf(TokenizerError);
    expect(e1?.message).toMatch(/line 2/);
    expect(e1?.context.line).toBe(2);
    const huge = await bad('h.tiktoken', 'IQ== 0\nIg== 99999999999\n');
    expect(huge?.message).toMatch(/rank 99999999999: ranks above/);
    const e2 = await bad('y.tiktoken', 'IQ== 0\n@@@ 1\n');
    expect(e2?.message).toMatch(/line 2: invalid base64/);
    const e3 = await bad('z.json', '{"pat_str": "\\\\s+", "special_tokens": {}, "bpe_ranks": 5}');
    expect(e3?.context.field).toBe('bpe_ranks');
    const e4 = await bad(
      'w.json',
      '{"pat_str": "(", "special_tokens": {}, "bpe_ranks": "! 0 IQ=="}',
    );
    expect(e4?.message).toMatch(/byte 0 has no rank/);
    const e5 = await bad('v.json', '{not json');
    expect(e5?.code).toBe('TOKENIZER_BAD_JSON');
    await expect(loadTiktoken('no_such_encoding')).rejects.toThrow(/neither a known encoding/);
  });
});
