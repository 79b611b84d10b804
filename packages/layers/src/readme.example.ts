import { initBackend, tf } from '@deepline/core';
import { DeepseekModel, countParameters, presetConfig } from '@deepline/layers';

export async function readmeExample(): Promise<{ logitsShape: number[]; decodedShape: number[]; activated: number }> {
  await initBackend({ backend: 'cpu' });
  const config = presetConfig('tiny', { nLayers: 2 });
  const model = DeepseekModel.create(config, { seed: 1 });

  // Full forward: logits for every position, plus routing for the balance loss.
  const tokens = tf.tensor2d([[1, 5, 9, 2]], [1, 4], 'int32');
  const { logits, routing } = model.forward(tokens, { collectRouting: true });

  // Incremental decoding: prefill 4 tokens, then one token at position 4.
  const cache = model.createCache({ batchSize: 1 });
  model.forward(tokens, { cache, startPos: 0 }).logits.dispose();
  const next = tf.tensor2d([[7]], [1, 1], 'int32');
  const step = model.forward(next, { cache, startPos: 4 });

  const result = {
    logitsShape: logits.shape,
    decodedShape: step.logits.shape,
    activated: countParameters(config).activatedPerToken,
  };
  tf.dispose([tokens, next, logits, step.logits, ...(routing ?? []).flatMap((r) => [r.scores, r.indices, r.weights])]);
  cache.dispose();
  model.dispose();
  return result;
}
