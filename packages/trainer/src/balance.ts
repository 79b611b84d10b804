import { tf } from '@deepline/core';

/** Routing of one MoE layer for a batch, as the model reports it. */
export interface RoutingRecord {
  /** Layer index in the model. */
  layer: number;
  /** Unbiased affinities s of every routed expert, [B·S, E] (row b·S + s); differentiable. */
  scores: tf.Tensor;
  /** Selected experts (after bias and group limits), int32 [B·S, K]. */
  indices: tf.Tensor;
  /** HF name of the layer's gate correction bias in the model's weights, when it has one. */
  biasName?: string;
}

/** Options of sequenceBalanceLoss. */
export interface SequenceBalanceLossOptions {
  /** Affinities [B·S, E] (sigmoid or softmax scores, unbiased). */
  scores: tf.Tensor;
  /** Selected experts, int32 [B·S, K]. */
  indices: tf.Tensor;
  batchSize: number;
  seqLen: number;
  /** Balance factor α (DeepSeek-V3: 1e-4). */
  alpha: number;
}

/**
 * Complementary sequence-wise balance loss (DeepSeek-V3 report §2.1.2, spec §11):
 * per sequence `α Σ_i f_i P_i` with `f_i = E/(K·T) · #{t: i selected}` (a constant) and
 * `P_i = mean_t s_{i,t}/Σ_j s_{j,t}`; averaged over the sequences of the batch. A
 * perfectly balanced layer gives α. Returns a scalar tensor (gradient flows through P).
 */
export function sequenceBalanceLoss(options: SequenceBalanceLossOptions): tf.Scalar {
  const { batchSize: b, seqLen: t, alpha } = options;
  return tf.tidy(() => {
    const [, e] = options.scores.shape as [number, number];
    const k = options.indices.shape[1]!;
    const s = tf.reshape(options.scores, [b, t, e]);
    const normalised = tf.div(s, tf.sum(s, -1, true));
    const p = tf.mean(normalised, 1); // [B, E]
    const counts = expertCountsPerSequence(options.indices, b, t, e); // [B, E], constant
    const f = tf.mul(counts, e / (k * t));
    return tf.mul(tf.mean(tf.sum(tf.mul(f, p), -1)), alpha) as tf.Scalar;
  });
}

/** Selections per expert per sequence, float32 [B, E]; built from int indices, so it carries no gradient. */
function expertCountsPerSequence(indices: tf.Tensor, b: number, t: number, e: number): tf.Tensor {
  const k = indices.shape[1]!;
  const oneHot = tf.cast(
    tf.oneHot(tf.reshape(tf.cast(indices, 'int32'), [b * t * k]), e),
    'float32',
  );
  return tf.sum(tf.reshape(oneHot, [b, t * k, e]), 1);
}

/** Assignments per expert over all tokens of `indices` ([N, K] int32), as numbers. */
export function expertLoad(indices: tf.Tensor, nExperts: number): Float64Array {
  const data = indices.dataSync();
  const load = new Float64Array(nExperts);
  for (let i = 0; i < data.length; i++) load[data[i]!]! += 1;
  return load;
}

/**
 * Auxiliary-loss-free bias update (spec §10): `b_i ← b_i + γ·sign(mean(load) − load_i)`,
 * from the loads summed over every micro-batch of the step. Called after the optimizer step.
 */
export function updateGateBias(options: {
  bias: tf.Variable;
  load: ArrayLike<number>;
  gamma: number;
}): void {
  const { bias, load, gamma } = options;
  if (gamma === 0) return;
  let mean = 0;
  for (let i = 0; i < load.length; i++) mean += load[i]!;
  mean /= load.length;
  const step = new Float32Array(load.length);
  for (let i = 0; i < load.length; i++) step[i] = gamma * Math.sign(mean - load[i]!);
  tf.tidy(() => bias.assign(tf.add(bias, tf.tensor(step, bias.shape, 'float32'))));
}
