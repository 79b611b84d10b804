import { tf } from '@deepline/core';
import { DeepseekModel, presetConfig } from '@deepline/layers';

/**
 * A tiny random-weight DeepSeek-V3 (2 blocks, one MoE) for tests. The init std is raised
 * from the paper's 0.006 so logits are well separated and greedy choices are not near-ties.
 */
export function tinyDeepseek(options: { seed?: number; vocabSize?: number; maxSeqLen?: number } = {}): DeepseekModel {
  const config = presetConfig('tiny', {
    vocabSize: options.vocabSize ?? 512,
    maxSeqLen: options.maxSeqLen ?? 256,
    originalSeqLen: options.maxSeqLen ?? 256,
    nMtpModules: 0,
  });
  return DeepseekModel.create(config, { seed: options.seed ?? 1, initStd: 0.08 });
}

/** Greedy continuation straight from DeepseekModel.forward with its own KV cache (the library path). */
export function referenceGreedy(model: DeepseekModel, prompt: readonly number[], count: number, stopIds: readonly number[] = []): number[] {
  const cache = model.createCache({ batchSize: 1 });
  const out: number[] = [];
  try {
    let input = [...prompt];
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const next = tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(input, [1, input.length], 'int32'), { startPos: pos, cache });
        const last = tf.slice(logits, [0, input.length - 1, 0], [1, 1, model.config.vocabSize]);
        return tf.argMax(tf.reshape(last, [-1])).dataSync()[0]!;
      });
      out.push(next);
      if (stopIds.includes(next)) break;
      pos += input.length;
      input = [next];
    }
  } finally {
    cache.dispose();
  }
  return out;
}
