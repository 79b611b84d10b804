// Test/bench-only fixtures: a learnable synthetic corpus, a byte-level BPE tokenizer.json and
// a short deterministic training loop, so quantization is measured on a trained model.
import { SeededRandom, tf } from '@deepline/core';
import { type DeepseekConfig, DeepseekModel, presetConfig } from '@deepline/layers';

/** Tiny config whose every projection width is a multiple of 32 (so int4-g32 applies everywhere). */
export function tinyConfig(overrides: Partial<DeepseekConfig> = {}): DeepseekConfig {
  return presetConfig('tiny', { vocabSize: 320, maxSeqLen: 128, originalSeqLen: 128, nMtpModules: 0, ...overrides });
}

/**
 * Token stream of a sparse Markov chain: each token has 3 successors with probabilities
 * 0.75/0.2/0.05, so a trained model reaches a low, measurable perplexity.
 */
export function markovTokens(options: { vocabSize: number; count: number; seed: number; chainSeed?: number }): number[] {
  const chain = new SeededRandom(options.chainSeed ?? 1234);
  const next: number[][] = [];
  for (let t = 0; t < options.vocabSize; t++) next.push([0, 1, 2].map(() => Math.floor(chain.next() * options.vocabSize)));
  const rng = new SeededRandom(options.seed);
  const out = [Math.floor(rng.next() * options.vocabSize)];
  while (out.length < options.count) {
    const u = rng.next();
    const choices = next[out[out.length - 1]!]!;
    out.push(u < 0.75 ? choices[0]! : u < 0.95 ? choices[1]! : choices[2]!);
  }
  return out;
}

/** Trains `model` with Adam on next-token cross-entropy over windows of `tokens`. Returns the last loss. */
export function trainModel(options: { model: DeepseekModel; tokens: number[]; steps: number; batch?: number; seqLen?: number; lr?: number; seed?: number }): number {
  const { model, tokens, steps } = options;
  const batch = options.batch ?? 8;
  const seqLen = options.seqLen ?? 32;
  const rng = new SeededRandom(options.seed ?? 7);
  const optimizer = tf.train.adam(options.lr ?? 0.01);
  const vars = [...model.namedWeights().values()];
  let last = Number.NaN;
  for (let step = 0; step < steps; step++) {
    const inputs: number[][] = [];
    const targets: number[] = [];
    for (let b = 0; b < batch; b++) {
      const start = Math.floor(rng.next() * (tokens.length - seqLen - 1));
      inputs.push(tokens.slice(start, start + seqLen));
      targets.push(...tokens.slice(start + 1, start + seqLen + 1));
    }
    const loss = tf.tidy(
      () =>
        optimizer.minimize(
        () => {
          const { logits } = model.forward(tf.tensor2d(inputs, [batch, seqLen], 'int32'), { mtp: false });
          const flat = tf.reshape(logits, [batch * seqLen, -1]);
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(targets, 'int32'), model.config.vocabSize), flat) as tf.Scalar;
        },
        true,
        vars,
      ) as tf.Scalar,
    );
    last = loss.dataSync()[0]!;
    loss.dispose();
  }
  optimizer.dispose();
  return last;
}

/** A trained tiny model plus held-out tokens of the same distribution. */
export function trainedTinyModel(options: { steps?: number; config?: Partial<DeepseekConfig> } = {}): { model: DeepseekModel; heldOut: number[]; train: number[] } {
  const config = tinyConfig(options.config);
  const model = DeepseekModel.create(config, { seed: 3, initStd: 0.02 });
  const train = markovTokens({ vocabSize: config.vocabSize, count: 20000, seed: 11 });
  const heldOut = markovTokens({ vocabSize: config.vocabSize, count: 600, seed: 99 });
  trainModel({ model, tokens: train, steps: options.steps ?? 50, batch: 4 });
  return { model, heldOut, train };
}

/** GPT-2's byte → printable-unicode map used by byte-level BPE vocabularies. */
export function byteToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return out;
}

/**
 * A byte-level BPE tokenizer.json with `vocabSize` ids: 256 byte tokens, merges of frequent
 * pairs of a fixed text, and two special tokens (BOS, EOS) in the last ids.
 */
export function tinyTokenizerJson(vocabSize: number): object {
  const bytes = byteToUnicode();
  const vocab: Record<string, number> = {};
  bytes.forEach((s, i) => {
    vocab[s] = i;
  });
  const text = 'the quick brown fox jumps over the lazy dog and then the dog sleeps while the fox runs '.repeat(4);
  let words = text
    .split(/(?= )/)
    .map((w) => [...new TextEncoder().encode(w)].map((b) => bytes[b]!));
  const merges: string[] = [];
  while (Object.keys(vocab).length < vocabSize - 2) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]} ${w[i + 1]}`, (counts.get(`${w[i]} ${w[i + 1]}`) ?? 0) + 1);
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best) break;
    const [a, b] = best[0].split(' ') as [string, string];
    merges.push(best[0]);
    vocab[a + b] = Object.keys(vocab).length;
    words = words.map((w) => {
      const out: string[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w[i]!);
      }
      return out;
    });
  }
  const n = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: [
      { id: n, content: '<｜begin▁of▁sentence｜>', special: true },
      { id: n + 1, content: '<｜end▁of▁sentence｜>', special: true },
    ],
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab, merges },
  };
}
