import { tf } from '@deepline/core';
import type { DeepseekConfig } from './config.js';
import { withoutGradient } from './stopGradient.js';

/** Router output for N tokens. */
export interface GateOutput {
  /** Routing weights `[N, K]` (after renormalisation and route_scale), same order as indices. */
  weights: tf.Tensor2D;
  /** Selected experts `[N, K]` int32, by descending selection score. */
  indices: tf.Tensor2D;
  /** Unbiased affinities `[N, E]` (softmax or sigmoid): what the balance loss uses. */
  scores: tf.Tensor2D;
}

/** Inputs of routeTokens. */
export interface RouteTokensOptions {
  /** Router logits `[N, E]` (x · gate.weightᵀ). */
  logits: tf.Tensor2D;
  /** Selection-only correction bias `[E]` (noaux_tc), if the config has one. */
  bias?: tf.Tensor1D;
  config: Pick<DeepseekConfig, 'scoreFunc' | 'nExpertGroups' | 'nLimitedGroups' | 'nActivatedExperts' | 'routeScale' | 'nRoutedExperts'>;
}

/**
 * The DeepSeekMoE gate (spec §7.1): softmax/sigmoid scores, bias added for selection only,
 * group-limited top-k (group score = max, or sum of top-2 with a bias), weights taken from
 * the unbiased scores, renormalised for sigmoid, times route_scale. Differentiable in the
 * weights and scores; the selection itself carries no gradient.
 */
export function routeTokens({ logits, bias, config }: RouteTokensOptions): GateOutput {
  return tf.tidy(() => {
    const e = logits.shape[1];
    const scores = (config.scoreFunc === 'softmax' ? tf.softmax(logits) : tf.sigmoid(logits)) as tf.Tensor2D;
    const inputs = bias ? [scores, bias] : [scores];
    const indices = withoutGradient(inputs, (sc, b) => selectExperts(b ? tf.add(sc!, b) : sc!, !!b, config)) as tf.Tensor2D;
    const hot = tf.cast(tf.oneHot(indices, e), 'float32');
    let weights = tf.sum(tf.mul(tf.expandDims(scores, 1), hot), -1);
    if (config.scoreFunc === 'sigmoid') weights = tf.div(weights, tf.sum(weights, -1, true));
    if (config.routeScale !== 1) weights = tf.mul(weights, config.routeScale);
    return { weights: weights as tf.Tensor2D, indices, scores };
  });
}

/** Group-limited top-k on selection scores `[N, E]` → indices `[N, K]` int32 (spec §7.1). */
function selectExperts(selectionScores: tf.Tensor, biased: boolean, config: RouteTokensOptions['config']): tf.Tensor {
  const [n, e] = selectionScores.shape as [number, number];
  const groups = config.nExpertGroups;
  let selection = selectionScores;
  if (groups > 1) {
    const grouped = tf.reshape(selection, [n, groups, e / groups]);
    const groupScore = biased ? tf.sum(tf.topk(grouped, 2).values, -1) : tf.max(grouped, -1);
    const kept = tf.topk(groupScore, config.nLimitedGroups).indices;
    const keptMask = tf.sum(tf.oneHot(kept, groups), 1);
    const expertMask = tf.reshape(tf.tile(tf.expandDims(keptMask, 2), [1, 1, e / groups]), [n, e]);
    selection = tf.where(tf.greater(expertMask, 0), selection, tf.fill([n, e], Number.NEGATIVE_INFINITY));
  }
  return tf.topk(selection, config.nActivatedExperts).indices;
}
