import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { Tokenizer } from '@deepline/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const corpus = [
  'The quick brown fox jumps over the lazy dog. ',
  'Tokenizers split text into pieces; byte-level BPE never fails on any input. ',
  'Numbers like 12345 and emoji 😀 are handled, as are 日本語 and Ελληνικά. ',
];

describe('deepline tokenizer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
    mkdirSync(join(dir, 'corpus'));
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'corpus', `${i}.txt`), corpus[i]!.repeat(40));
    writeFileSync(join(dir, 'extra.jsonl'), `${JSON.stringify({ text: 'json lines text too' })}\n`);
  });
  afterAll(() => removeDir(dir));

  it('trains, then encodes, decodes and describes with the trained tokenizer.json', async () => {
    const out = join(dir, 'tok');
    const train = runCli(['tokenizer', 'train', join(dir, 'corpus'), join(dir, 'extra.jsonl'), '--vocab-size', '400', '--deepseek-specials', '--out', out, '--json']);
    expect(train.code, train.stderr).toBe(0);
    expect(JSON.parse(train.stdout.trim().split('\n').pop()!)).toMatchObject({ vocabSize: 400 });
    expect(train.stderr).toContain('"progress":"tokenizer train"');
    const file = join(out, 'tokenizer.json');
    const lib = await Tokenizer.fromFile(file);
    const text = 'The lazy fox 😀';
    const encode = runCli(['tokenizer', 'encode', '--tokenizer', out, '--text', text]);
    expect(encode.code, encode.stderr).toBe(0);
    const ids = encode.stdout.trim().split(' ').map(Number);
    expect(ids).toEqual(lib.encode(text));
    const decode = runCli(['tokenizer', 'decode', '--tokenizer', file], { input: ids.join(',') });
    expect(decode.stdout).toBe(`${text}\n`);
    const info = runCli(['tokenizer', 'info', '--tokenizer', file, '--json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ vocabSize: 400, bosTokenId: 0, eosTokenId: 1 });
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).bos_token).toBe('<｜begin▁of▁sentence｜>');
  });

  it('encodes with offsets from stdin using a tiktoken encoding', () => {
    const r = runCli(['tokenizer', 'encode', '--tokenizer', 'tiktoken:cl100k_base', '--offsets'], { input: 'hello world' });
    expect(r.code, r.stderr).toBe(0);
    // cl100k: "hello" = 15339, " world" = 1917 (tiktoken's published example ids)
    expect(JSON.parse(r.stdout)).toEqual({ ids: [15339, 1917], offsets: [[0, 5], [5, 11]] });
  });

  it('reports usage and tokenizer errors clearly', () => {
    const noVocab = runCli(['tokenizer', 'train', join(dir, 'corpus'), '--out', join(dir, 'x')]);
    expect(noVocab.code).toBe(2);
    expect(noVocab.stderr).toContain('--vocab-size');
    writeFileSync(join(dir, 'broken.json'), '{"model": {"type": "BPE", "vocab": {}, "merges": "nope"}}');
    const broken = runCli(['tokenizer', 'info', '--tokenizer', join(dir, 'broken.json')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('model.merges');
  });
});
