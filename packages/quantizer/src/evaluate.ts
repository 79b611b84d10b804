import { tf } from '@deepline/core';
import type { DeepseekModel } from '@deepline/layers';
import { fail } from './errors.js';
import { QuantizedLinear } from './quantizedLinear.js';
import { quantizedBytes } from './quantizedWeight.js';

/** Options of {@link perplexity}. */
export interface PerplexityOptions {
  model: DeepseekModel;
  /** Held-out token ids. */
  tokens: readonly number[];
  /** Tokens per forward window (default: min(maxSeqLen, 256)); windows do not overlap. */
  window?: number;
}

/** Mean next-token negative log-likelihood over non-overlapping windows, and its exponential. */
export function perplexity(options: PerplexityOptions): { ppl: number; nll: number; count: number } {
  const { model, tokens } = options;
  const window = options.window ?? Math.min(model.config.maxSeqLen, 256);
  if (!Number.isInteger(window) || window < 2) fail('BAD_OPTION', `window must be an integer ≥ 2, got ${window}`, { field: 'window' });
  if (tokens.length < 2) fail('BAD_OPTION', `perplexity needs at least 2 tokens, got ${tokens.length}`, { field: 'tokens' });
  let nll = 0;
  let count = 0;
  for (let start = 0; start + 1 < tokens.length; start += window) {
    const chunk = tokens.slice(start, Math.min(start + window + 1, tokens.length));
    const input = chunk.slice(0, -1) as number[];
    const targets = chunk.slice(1) as number[];
    const sum = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([input], [1, input.length], 'int32'));
      const logp = tf.logSoftmax(tf.reshape(logits, [input.length, -1]));
      const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(targets, 'int32'), model.config.vocabSize)));
      return picked.dataSync()[0]!;
    });
    nll -= sum;
    count += targets.length;
  }
  return { ppl: Math.exp(nll / count), nll: nll / count, count };
}

/** Options of {@link greedyDecode}. */
export interface GreedyDecodeOptions {
  model: DeepseekModel;
  prompt: readonly number[];
  /** Tokens to generate. */
  maxNewTokens: number;
}

/** Greedy decoding with the KV cache; returns the generated ids and the decode speed (excluding prefill). */
export function greedyDecode(options: GreedyDecodeOptions): { tokens: number[]; decodeTokensPerSecond: number; prefillMs: number } {
  const { model, prompt, maxNewTokens } = options;
  if (prompt.length === 0) fail('BAD_OPTION', 'prompt must not be empty', { field: 'prompt' });
  const cache = model.createCache({ batchSize: 1, maxSeqLen: Math.min(model.config.maxSeqLen, prompt.length + maxNewTokens) });
  const next = (ids: number[], startPos: number): number =>
    tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { cache, startPos });
      const last = tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]);
      return tf.argMax(tf.reshape(last, [-1])).dataSync()[0]!;
    });
  try {
    const t0 = performance.now();
    const out = [next([...prompt], 0)];
    const t1 = performance.now();
    for (let i = 1; i < maxNewTokens; i++) out.push(next([out[i - 1]!], prompt.length + i - 1));
    const decodeMs = performance.now() - t1;
    return { tokens: out.slice(0, maxNewTokens), decodeTokensPerSecond: maxNewTokens > 1 ? ((maxNewTokens - 1) * 1000) / decodeMs : 0, prefillMs: t1 - t0 };
  } finally {
    cache.dispose();
  }
}

/** Bytes of packed weights held outside tfjs (host typed arrays of QuantizedLinear layers). */
export function packedHostBytes(model: DeepseekModel): number {
  let bytes = 0;
  for (const l of model.linears().values()) if (l instanceof QuantizedLinear) bytes += quantizedBytes(l.weight);
  return bytes;
}

/**
 * Peak memory of running `run` on `model`: the tfjs engine's peak tensor bytes during the
 * call (weights, activations and any just-in-time dequantized weight) plus the packed weights
 * held in host memory.
 */
export async function measurePeakMemory(model: DeepseekModel, run: () => unknown): Promise<{ peakBytes: number; tensorPeakBytes: number; packedBytes: number }> {
  const info = await tf.profile(() => {
    run();
    return [] as tf.Tensor[];
  });
  const packedBytes = packedHostBytes(model);
  return { peakBytes: info.peakBytes + packedBytes, tensorPeakBytes: info.peakBytes, packedBytes };
}
