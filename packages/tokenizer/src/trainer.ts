import type { AddedTokenSpec } from './addedTokens.js';
import { AddedTokenMatcher } from './addedTokens.js';
import { TokenizerError } from './errors.js';
import { PairCounter } from './pairCounter.js';
import { PairTable } from './pairTable.js';
import { DEEPSEEK_PATTERNS, NAMED_PATTERNS } from './pattern.js';
import { PreTokenizer } from './preTokenizer.js';
import { forEachChainPiece } from './splitChain.js';
import { Tokenizer, type TokenizerMeta } from './tokenizer.js';
import { encodeUtf8Into } from './utf8.js';

export interface TrainProgress {
  phase: 'count' | 'merge' | 'done';
  /** Texts read so far. */
  texts: number;
  /** UTF-16 code units read so far. */
  chars: number;
  /** Distinct pre-tokens held. */
  words: number;
  /** Merges learned so far. */
  merges: number;
  /** Merges wanted (vocabSize − specials − 256). */
  targetMerges: number;
}

export interface TrainBpeOptions {
  /** Training texts, streamed once. */
  texts: Iterable<string> | AsyncIterable<string>;
  /** Final vocab size: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** Pairs seen fewer times are never merged. Default 0 (as tokenizers' BpeTrainer). */
  minFrequency?: number;
  /** Special tokens, given ids 0, 1, … in order; never split and never merged. */
  specialTokens?: string[];
  /**
   * Pre-tokenizer: 'gpt2' (default, = tokenizers' ByteLevel regex), 'cl100k', 'o200k',
   * 'deepseek' (DeepSeek-V3's three Split regexes), or any regex source.
   */
  pattern?: string;
  /**
   * Most distinct pre-tokens kept while counting. When exceeded, the rarest are dropped
   * (deterministically), which bounds memory on any stream. Default 2,000,000.
   */
  maxWords?: number;
  /** Called during counting (every 1,000 texts), merging (every 1,000 merges or 10%), and at the end. */
  onProgress?: (progress: TrainProgress) => void;
  /** Metadata for the trained tokenizer (BOS/EOS default to the first/second special token when named like one). */
  meta?: TokenizerMeta;
}

/** The tokenizer.json pre_tokenizer for a training pattern. */
export function preTokenizerForPattern(pattern: string): Record<string, unknown> {
  const byteLevel = {
    type: 'ByteLevel',
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: false,
  };
  if (pattern === 'gpt2')
    return { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const regexes =
    pattern === 'deepseek' ? [...DEEPSEEK_PATTERNS] : [NAMED_PATTERNS[pattern] ?? pattern];
  return {
    type: 'Sequence',
    pretokenizers: [
      ...regexes.map((r) => ({
        type: 'Split',
        pattern: { Regex: r },
        behavior: 'Isolated',
        invert: false,
      })),
      byteLevel,
    ],
  };
}

/**
 * Trains a byte-level BPE from a stream of texts: counts pre-tokens (bounded), then merges
 * the most frequent adjacent pair (ties: lowest ids first) until the vocab is full.
 * Deterministic for a given input and options.
 */
export async function trainBpe(options: TrainBpeOptions): Promise<Tokenizer> {
  const specials = options.specialTokens ?? [];
  const minFrequency = options.minFrequency ?? 0;
  const maxWords = options.maxWords ?? 2_000_000;
  const base = specials.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base) {
    throw new TokenizerError(
      `vocabSize must be an integer ≥ ${base} (special tokens + 256 bytes), got ${options.vocabSize}`,
      {
        code: 'TOKENIZER_BAD_OPTION',
        context: { field: 'vocabSize' },
      },
    );
  }
  if (
    new Set(specials).size !== specials.length ||
    specials.some((s) => typeof s !== 'string' || s.length === 0)
  ) {
    throw new TokenizerError('specialTokens must be distinct non-empty strings', {
      code: 'TOKENIZER_BAD_OPTION',
      context: { field: 'specialTokens' },
    });
  }
  const preTokenizerJson = preTokenizerForPattern(options.pattern ?? 'gpt2');
  const pre = PreTokenizer.fromJSON(preTokenizerJson, 'pattern');
  const progress: TrainProgress = {
    phase: 'count',
    texts: 0,
    chars: 0,
    words: 0,
    merges: 0,
    targetMerges: options.vocabSize - base,
  };
  const counts = await countWords(
    options.texts,
    pre,
    specials,
    maxWords,
    progress,
    options.onProgress,
  );
  const { tokenBytes, merges } = learnMerges(
    counts,
    specials.length,
    options.vocabSize,
    minFrequency,
    progress,
    options.onProgress,
  );
  progress.phase = 'done';
  options.onProgress?.({ ...progress });
  const pairs = new PairTable(merges.length / 3);
  const flat = new Int32Array((merges.length / 3) * 2);
  for (let k = 0; k < merges.length; k += 3) {
    pairs.set(merges[k]!, merges[k + 1]!, k / 3, merges[k + 2]!);
    flat[(k / 3) * 2] = merges[k]!;
    flat[(k / 3) * 2 + 1] = merges[k + 1]!;
  }
  const addedTokens: AddedTokenSpec[] = specials.map((content, id) => ({
    id,
    content,
    special: true,
    normalized: false,
  }));
  return new Tokenizer({
    tokenBytes,
    otherVocab: new Map(),
    pairs,
    merges: flat,
    ignoreMerges: false,
    addedTokens,
    normalizer: null,
    preTokenizer: preTokenizerJson,
    postProcessor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    defaults: { allowedSpecial: 'all', disallowedSpecial: 'none' },
    meta: { ...guessMeta(specials), ...options.meta },
    source: 'trainBpe',
  });
}

function guessMeta(specials: string[]): TokenizerMeta {
  const bos = specials.find((s) => /begin|bos|^<s>$|startoftext/i.test(s));
  const eos = specials.find((s) => /end.of.sentence|eos|^<\/s>$|endoftext|end_of_text/i.test(s));
  const pad = specials.find((s) => /pad/i.test(s));
  return { bosToken: bos, eosToken: eos, padToken: pad };
}

async function countWords(
  texts: Iterable<string> | AsyncIterable<string>,
  pre: PreTokenizer,
  specials: string[],
  maxWords: number,
  progress: TrainProgress,
  onProgress?: (p: TrainProgress) => void,
): Promise<Map<string, number>> {
  let counts = new Map<string, number>();
  const matcher = new AddedTokenMatcher(
    specials.map((content, id) => ({ id, content, special: true })),
  );
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const fast = pre.fast;
  const chain = pre.chain;
  const countPiece = (t: string, a: number, b: number) =>
    add(a === 0 && b === t.length ? t : t.slice(a, b));
  for await (const text of texts as AsyncIterable<string>) {
    if (typeof text !== 'string')
      throw new TokenizerError(`texts[${progress.texts}] is not a string`, {
        code: 'TOKENIZER_BAD_OPTION',
        context: { field: 'texts' },
      });
    matcher.split(
      text,
      () => true,
      (start, end) => {
        const segment = start === 0 && end === text.length ? text : text.slice(start, end);
        if (fast) countFast(segment, fast.regex, fast.keepGaps, add);
        else if (chain) forEachChainPiece(chain, countPiece, segment, 0, segment.length);
        else pre.run(segment, 0, segment.length, (a, b) => add(segment.slice(a, b)));
      },
      () => {},
    );
    progress.texts++;
    progress.chars += text.length;
    if (counts.size > maxWords) counts = prune(counts, maxWords);
    if (progress.texts % 1000 === 0) {
      progress.words = counts.size;
      onProgress?.({ ...progress });
    }
  }
  progress.words = counts.size;
  return counts;
}

function countFast(
  text: string,
  regex: RegExp,
  keepGaps: boolean,
  add: (key: string) => void,
): void {
  regex.lastIndex = 0;
  let prev = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length === 0) {
      if (m.index >= text.length) break;
      regex.lastIndex = m.index + 1;
      continue;
    }
    if (keepGaps && m.index > prev) add(text.slice(prev, m.index));
    add(m[0]);
    prev = m.index + m[0].length;
  }
  if (keepGaps && prev < text.length) add(text.slice(prev));
}

/** Drops the rarest words until at most half of maxWords remain (ties broken by count only, so deterministic). */
function prune(counts: Map<string, number>, maxWords: number): Map<string, number> {
  let threshold = 1;
  let kept = counts.size;
  while (kept > maxWords / 2) {
    kept = 0;
    for (const c of counts.values()) if (c > threshold) kept++;
    if (kept > maxWords / 2) threshold *= 2;
  }
  const out = new Map<string, number>();
  for (const [k, c] of counts) if (c > threshold) out.set(k, c);
  return out;
}

/** Max-heap of pair indices ordered by (count desc, a asc, b asc), with lazily refreshed counts. */
class PairHeap {
  private keys: number[] = [];
  private counts: number[] = [];
  constructor(private readonly pc: PairCounter) {}

  get size(): number {
    return this.keys.length;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    if (ci !== cj) return ci > cj;
    const pi = this.keys[i]!;
    const pj = this.keys[j]!;
    const ai = this.pc.pairA[pi]!;
    const aj = this.pc.pairA[pj]!;
    return ai !== aj ? ai < aj : this.pc.pairB[pi]! < this.pc.pairB[pj]!;
  }

  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
  }

  push(pair: number, count: number): void {
    this.keys.push(pair);
    this.counts.push(count);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Returns [pair, countWhenPushed]. */
  pop(): [number, number] {
    const top: [number, number] = [this.keys[0]!, this.counts[0]!];
    const lastKey = this.keys.pop()!;
    const lastCount = this.counts.pop()!;
    if (this.keys.length > 0) {
      this.keys[0] = lastKey;
      this.counts[0] = lastCount;
      let i = 0;
      const n = this.keys.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.before(l, m)) m = l;
        if (r < n && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

function learnMerges(
  counts: Map<string, number>,
  specialCount: number,
  vocabSize: number,
  minFrequency: number,
  progress: TrainProgress,
  onProgress?: (p: TrainProgress) => void,
): { tokenBytes: (Uint8Array | undefined)[]; merges: Int32Array } {
  progress.phase = 'merge';
  const tokenBytes: (Uint8Array | undefined)[] = new Array(specialCount).fill(undefined);
  for (let b = 0; b < 256; b++) tokenBytes.push(Uint8Array.of(b));
  // Words as symbol arrays (byte ids), with their counts.
  const words: Int32Array[] = [];
  const lengths: number[] = [];
  const freq: number[] = [];
  let scratch = new Uint8Array(1024);
  for (const [word, count] of counts) {
    if (scratch.length < word.length * 3) scratch = new Uint8Array(word.length * 6);
    const n = encodeUtf8Into(word, 0, word.length, scratch);
    if (n < 2) continue;
    const symbols = new Int32Array(n);
    for (let i = 0; i < n; i++) symbols[i] = specialCount + scratch[i]!;
    words.push(symbols);
    lengths.push(n);
    freq.push(count);
  }
  const pc = new PairCounter();
  for (let w = 0; w < words.length; w++) {
    const s = words[w]!;
    for (let i = 0; i + 1 < lengths[w]!; i++) {
      const p = pc.index(s[i]!, s[i + 1]!);
      pc.count[p] += freq[w]!;
      const list = pc.where[p]!;
      if (list[list.length - 1] !== w) list.push(w);
    }
  }
  const heap = new PairHeap(pc);
  for (let p = 0; p < pc.size; p++) if (pc.count[p]! > 0) heap.push(p, pc.count[p]!);
  const merges: number[] = [];
  const every = Math.max(1, Math.min(1000, Math.floor(progress.targetMerges / 10)));
  const seen = new Int32Array(words.length).fill(-1);
  const touched: number[] = [];
  while (tokenBytes.length < vocabSize && heap.size > 0) {
    const [p, pushed] = heap.pop();
    const current = pc.count[p]!;
    if (pushed !== current) {
      if (current > 0) heap.push(p, current);
      continue;
    }
    if (current < 1 || current < minFrequency) break;
    const a = pc.pairA[p]!;
    const b = pc.pairB[p]!;
    const id = tokenBytes.length;
    const ba = tokenBytes[a]!;
    const bb = tokenBytes[b]!;
    const joined = new Uint8Array(ba.length + bb.length);
    joined.set(ba);
    joined.set(bb, ba.length);
    tokenBytes.push(joined);
    merges.push(a, b, id);
    touched.length = 0;
    for (const w of pc.where[p]!) {
      if (seen[w] === id) continue;
      seen[w] = id;
      mergeWord(words, lengths, w, a, b, id, freq[w]!, pc, touched);
    }
    pc.count[p] = 0;
    pc.where[p] = [];
    for (const q of touched) if (pc.count[q]! > 0) heap.push(q, pc.count[q]!);
    progress.merges = merges.length / 3;
    if (progress.merges % every === 0) onProgress?.({ ...progress });
  }
  return { tokenBytes, merges: Int32Array.from(merges) };
}

/** Replaces (a, b) by id in word w, updating pair counts; new pairs go to `touched`. */
function mergeWord(
  words: Int32Array[],
  lengths: number[],
  w: number,
  a: number,
  b: number,
  id: number,
  count: number,
  pc: PairCounter,
  touched: number[],
): void {
  const s = words[w]!;
  const n = lengths[w]!;
  let found = false;
  for (let i = 0; i + 1 < n; i++) {
    if (s[i] === a && s[i + 1] === b) {
      found = true;
      break;
    }
  }
  if (!found) return;
  for (let i = 0; i + 1 < n; i++) pc.count[pc.index(s[i]!, s[i + 1]!)] -= count;
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (i + 1 < n && s[i] === a && s[i + 1] === b) {
      s[m++] = id;
      i++;
    } else s[m++] = s[i]!;
  }
  lengths[w] = m;
  for (let i = 0; i + 1 < m; i++) {
    const q = pc.index(s[i]!, s[i + 1]!);
    pc.count[q] += count;
    if (s[i] === id || s[i + 1] === id) {
      const list = pc.where[q]!;
      if (list[list.length - 1] !== w) list.push(w);
      touched.push(q);
    }
  }
}
