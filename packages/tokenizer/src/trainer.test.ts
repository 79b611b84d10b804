import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { byteLevelPreTokenizer, BPE as HfBpe, Tokenizer as HfTokenizer } from 'tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { ADVERSARIAL, randomUnicodeStrings, sotuDocs } from './testing/corpus.js';
import { Tokenizer } from './tokenizer.js';
import { type TrainProgress, trainBpe } from './trainer.js';

const docs = sotuDocs();
const held = docs.filter((_, i) => i % 10 === 0);
const train = docs.filter((_, i) => i % 10 !== 0);
const bytesOf = (texts: string[]) => texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

describe('trainBpe against HF tokenizers on SOTU', () => {
  let dir: string;
  let ours: Tokenizer;
  let hf: HfTokenizer;
  beforeAll(async () => {
    dir = await makeTempDir();
    // tokenizers' node binding trains with BpeTrainer defaults: vocab 30,000, min_frequency 0.
    const files = train.map((d, i) => {
      const f = join(dir, `${i}.txt`);
      writeFileSync(f, d);
      return f;
    });
    hf = new HfTokenizer(HfBpe.empty());
    hf.setPreTokenizer(byteLevelPreTokenizer(false, true));
    hf.train(files);
    ours = await trainBpe({ texts: train, vocabSize: 30_000, pattern: 'gpt2' });
  });
  afterAll(() => removeDir(dir));

  it('compresses held-out addresses within 1% of HF tokenizers trained the same way', async () => {
    let oursTokens = 0;
    let hfTokens = 0;
    for (const d of held) {
      oursTokens += ours.encode(d).length;
      hfTokens += (await hf.encode(d)).getIds().length;
    }
    const oursBpt = bytesOf(held) / oursTokens;
    const hfBpt = bytesOf(held) / hfTokens;
    expect(ours.vocabSize).toBe(30_000);
    expect(Math.abs(oursBpt / hfBpt - 1)).toBeLessThan(0.01);
    expect(oursBpt).toBeGreaterThan(4.5); // a real 30k BPE on English, not bytes
  });

  it('saves a tokenizer.json (pair merges) that HF tokenizers encodes identically', async () => {
    const file = join(dir, 'tokenizer.json');
    await ours.save(file);
    const back = HfTokenizer.fromFile(file);
    for (const s of [...held.slice(0, 3), ...ADVERSARIAL, ...randomUnicodeStrings(50, 3)]) {
      expect((await back.encode(s)).getIds(), JSON.stringify(s)).toEqual(ours.encode(s));
    }
  });

  it('loads HF-trained tokenizer.json (pair-form merges) and encodes identically to HF', async () => {
    const file = join(dir, 'hf.json');
    hf.save(file);
    const loaded = await Tokenizer.fromFile(file);
    for (const s of [...held.slice(0, 3), ...ADVERSARIAL])
      expect(loaded.encode(s)).toEqual((await hf.encode(s)).getIds());
  });
});

describe('trainBpe options', () => {
  const small = docs.slice(0, 4);

  it('is deterministic, reports progress, and streams from async iterables', async () => {
    const seen: TrainProgress[] = [];
    async function* stream() {
      for (const d of small) yield d;
    }
    const a = await trainBpe({ texts: stream(), vocabSize: 1200, onProgress: (p) => seen.push(p) });
    const b = await trainBpe({ texts: small, vocabSize: 1200 });
    expect(await a.toJSON()).toEqual(await b.toJSON());
    expect(seen.some((p) => p.phase === 'merge')).toBe(true);
    const last = seen[seen.length - 1]!;
    expect(last).toMatchObject({
      phase: 'done',
      texts: 4,
      merges: 1200 - 256,
      targetMerges: 1200 - 256,
    });
  });

  it('reserves special tokens first, never merges across them, and encodes them as single ids', async () => {
    const specials = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<pad>'];
    const texts = small.map((d) => `${specials[0]}${d}${specials[1]}`);
    const tok = await trainBpe({
      texts,
      vocabSize: 800,
      specialTokens: specials,
      pattern: 'deepseek',
    });
    expect(tok.specialTokens).toEqual({ [specials[0]!]: 0, [specials[1]!]: 1, '<pad>': 2 });
    expect(tok.bosTokenId).toBe(0);
    expect(tok.eosTokenId).toBe(1);
    expect(tok.padTokenId).toBe(2);
    const ids = tok.encode(`${specials[0]}Hello${specials[1]}`);
    expect(ids[0]).toBe(0);
    expect(ids[ids.length - 1]).toBe(1);
    expect(tok.decode(ids)).toBe(`${specials[0]}Hello${specials[1]}`);
    // The DeepSeek pattern takes the general pre-tokenizer path; raw bytes stay exact there too.
    const bytes = Uint8Array.of(
      0x48,
      0x69,
      0x20,
      0xff,
      0xfe,
      0xe6,
      0x97,
      0xa5,
      0xe6,
      0x31,
      0x32,
      0x33,
      0x34,
      0xc0,
    );
    expect(tok.decodeBytes(tok.encode(bytes))).toEqual(bytes);
    for (const s of ADVERSARIAL) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('stops at minFrequency and keeps memory bounded with maxWords', async () => {
    const rare = await trainBpe({ texts: small, vocabSize: 50_000, minFrequency: 50 });
    const all = await trainBpe({ texts: small, vocabSize: 50_000 });
    expect(rare.vocabSize).toBeLessThan(all.vocabSize);
    let words = 0;
    const bounded = await trainBpe({
      texts: docs.slice(0, 40),
      vocabSize: 600,
      maxWords: 2000,
      onProgress: (p) => (words = Math.max(words, p.words)),
    });
    expect(words).toBeLessThanOrEqual(2000);
    expect(bounded.vocabSize).toBe(600);
    for (const s of ADVERSARIAL) expect(bounded.decode(bounded.encode(s))).toBe(s);
  });

  it('rejects bad options with the field named', async () => {
    await expect(trainBpe({ texts: small, vocabSize: 100 })).rejects.toThrow(
      /vocabSize must be an integer ≥ 256/,
    );
    await expect(
      trainBpe({ texts: small, vocabSize: 300, specialTokens: ['a', 'a'] }),
    ).rejects.toMatchObject({ context: { field: 'specialTokens' } });
    await expect(trainBpe({ texts: small, vocabSize: 300, pattern: '(' })).rejects.toBeInstanceOf(
      TokenizerError,
    );
    await expect(
      trainBpe({ texts: [42 as unknown as string], vocabSize: 300 }),
    ).rejects.toMatchObject({ context: { field: 'texts' } });
  });
});
