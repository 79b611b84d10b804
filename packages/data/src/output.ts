import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Document } from './types.js';

/** Writes documents as JSON Lines (`{id, text, ...meta}`), respecting stream backpressure. Returns the count. */
export async function writeJsonl(options: {
  documents: AsyncIterable<Document> | Iterable<Document>;
  path: string;
}): Promise<number> {
  await mkdir(dirname(options.path), { recursive: true });
  const out = createWriteStream(options.path);
  let n = 0;
  try {
    for await (const doc of options.documents) {
      if (!out.write(`${JSON.stringify({ id: doc.id, text: doc.text, ...doc.meta })}\n`))
        await once(out, 'drain');
      n++;
    }
  } finally {
    out.end();
    await once(out, 'finish');
  }
  return n;
}

/** Corpus statistics from one streaming pass. */
export interface CorpusStats {
  documents: number;
  chars: number;
  bytes: number;
  words: number;
  lines: number;
  /** Document length in chars: min, median, p90, max (median/p90 over a reservoir of 10k). */
  length: { min: number; median: number; p90: number; max: number };
  tokens?: number;
}

/** Counts documents, chars, UTF-8 bytes, words and lines; tokens too when a tokenizer is given. */
export async function computeStats(options: {
  documents: AsyncIterable<Document> | Iterable<Document>;
  tokenizer?: { encode(text: string): ArrayLike<number> };
}): Promise<CorpusStats> {
  const s: CorpusStats = {
    documents: 0,
    chars: 0,
    bytes: 0,
    words: 0,
    lines: 0,
    length: { min: 0, median: 0, p90: 0, max: 0 },
  };
  const sample: number[] = [];
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let tokens = 0;
  for await (const doc of options.documents) {
    const len = doc.text.length;
    s.documents++;
    s.chars += len;
    s.bytes += Buffer.byteLength(doc.text);
    s.words += doc.text.split(/\s+/).filter(Boolean).length;
    s.lines += doc.text.split('\n').length;
    min = Math.min(min, len);
    max = Math.max(max, len);
    // Deterministic reservoir (every k-th once full) keeps memory constant.
    if (sample.length < 10_000) sample.push(len);
    else sample[s.documents % 10_000] = len;
    if (options.tokenizer) tokens += options.tokenizer.encode(doc.text).length;
  }
  sample.sort((a, b) => a - b);
  const q = (p: number) =>
    sample.length ? sample[Math.min(sample.length - 1, Math.floor(p * sample.length))]! : 0;
  s.length = { min: s.documents ? min : 0, median: q(0.5), p90: q(0.9), max };
  if (options.tokenizer) s.tokens = tokens;
  return s;
}
