import { tf } from '@deepline/core';
import type { DeepseekConfig } from './config.js';
import { routeTokens } from './gate.js';
import { mlpWeightShapes, swiGlu, swiGluWeightNames } from './mlp.js';
import { recomputeSublayer } from './recompute.js';
import type { WeightStore } from './weightStore.js';

/** Routing decisions of one MoE layer for one forward pass (tokens flattened as row = b·S + s). */
export interface RoutingInfo {
  /** Layer index (main blocks 0..nLayers-1; MTP modules continue after them). */
  layer: number;
  /** Unbiased affinities `[T, E]` (differentiable): input of the sequence-wise balance loss. */
  scores: tf.Tensor2D;
  /** Selected experts `[T, K]` int32. */
  indices: tf.Tensor2D;
  /** Routing weights `[T, K]` (differentiable). */
  weights: tf.Tensor2D;
  /** Number of (token, slot) assignments per expert `[E]` (host copy; sums to T·K). */
  expertCounts: Int32Array;
}

/** HF names and shapes of one MoE layer under `prefix` (e.g. `model.layers.1.mlp`). */
export function moeWeightShapes(config: DeepseekConfig, prefix: string): { name: string; shape: number[]; kind: 'linear' | 'buffer' }[] {
  const out: { name: string; shape: number[]; kind: 'linear' | 'buffer' }[] = [
    { name: `${prefix}.gate.weight`, shape: [config.nRoutedExperts, config.dim], kind: 'linear' },
  ];
  if (config.useCorrectionBias) out.push({ name: `${prefix}.gate.e_score_correction_bias`, shape: [config.nRoutedExperts], kind: 'buffer' });
  for (let e = 0; e < config.nRoutedExperts; e++) {
    for (const w of mlpWeightShapes(`${prefix}.experts.${e}`, config.dim, config.moeInterDim)) out.push({ ...w, kind: 'linear' });
  }
  if (config.nSharedExperts > 0) {
    for (const w of mlpWeightShapes(`${prefix}.shared_experts`, config.dim, config.nSharedExperts * config.moeInterDim)) {
      out.push({ ...w, kind: 'linear' });
    }
  }
  return out;
}

/**
 * DeepSeekMoE layer (spec §7.3): every token goes to exactly K routed experts plus the
 * shared expert. Dispatch is sparse: tokens are sorted by expert on the host, each expert
 * runs only on its own rows, and the outputs are gathered back and weighted.
 */
export class MoeLayer {
  constructor(
    private readonly config: DeepseekConfig,
    private readonly store: WeightStore,
    /** HF prefix, e.g. `model.layers.1.mlp`. */
    readonly prefix: string,
    readonly layer: number,
  ) {}

  /** `x` `[B, S, D]` → `[B, S, D]` plus this layer's routing (tensors owned by the caller's tidy). */
  forward(x: tf.Tensor3D, options: MoeForwardOptions = {}): { y: tf.Tensor3D; routing: RoutingInfo } {
    const c = this.config;
    const [b, s, d] = x.shape;
    const n = b * s;
    const k = c.nActivatedExperts;
    const flat = tf.reshape(x, [n, d]) as tf.Tensor2D;
    const logits = this.store.linear(`${this.prefix}.gate.weight`).apply(flat) as tf.Tensor2D;
    const bias = c.useCorrectionBias ? (this.store.buffer(`${this.prefix}.gate.e_score_correction_bias`) as tf.Tensor1D) : undefined;
    const gate = routeTokens({ logits, bias, config: c });
    const plan = dispatchPlan(gate.indices.dataSync() as Int32Array, n, k, c.nRoutedExperts);
    const sortedInputs = tf.gather(flat, tf.tensor1d(plan.sortedTokens, 'int32'));
    const outputs: tf.Tensor[] = [];
    let offset = 0;
    for (let e = 0; e < c.nRoutedExperts; e++) {
      const count = plan.counts[e]!;
      if (count === 0) continue;
      const rows = tf.slice(sortedInputs, [offset, 0], [count, d]);
      outputs.push(this.expert(rows, `${this.prefix}.experts.${e}`, options.recompute));
      offset += count;
    }
    const sortedOutputs = outputs.length === 1 ? outputs[0]! : tf.concat(outputs, 0);
    const perSlot = tf.reshape(tf.gather(sortedOutputs, tf.tensor1d(plan.inverse, 'int32')), [n, k, d]);
    let y = tf.sum(tf.mul(perSlot, tf.expandDims(gate.weights, 2)), 1);
    if (c.nSharedExperts > 0) y = tf.add(y, this.expert(flat, `${this.prefix}.shared_experts`, options.recompute));
    return {
      y: tf.reshape(y, [b, s, d]) as tf.Tensor3D,
      routing: { layer: this.layer, scores: gate.scores, indices: gate.indices, weights: gate.weights, expertCounts: plan.counts },
    };
  }

  private expert(x: tf.Tensor, prefix: string, recompute = false): tf.Tensor {
    const mlp = (rows: tf.Tensor) => swiGlu({ x: rows, store: this.store, prefix });
    if (!recompute) return mlp(x);
    return recomputeSublayer({ fn: mlp, x, weights: this.store.trainableOf(swiGluWeightNames(prefix)) });
  }
}

/** Options of MoeLayer.forward. */
export interface MoeForwardOptions {
  /** Recompute each expert MLP in backprop instead of keeping its activations (routing stays taped). */
  recompute?: boolean;
}

/** Host-side routing table: (token, slot) pairs sorted by expert, and the way back. */
export interface DispatchPlan {
  /** Token row of each sorted assignment `[N·K]`. */
  sortedTokens: Int32Array;
  /** For slot j = token·K + k, its position in the sorted order `[N·K]`. */
  inverse: Int32Array;
  /** Assignments per expert `[E]`. */
  counts: Int32Array;
}

/** Counting sort of the N·K (token, slot) assignments by expert, stable in token order. */
export function dispatchPlan(indices: Int32Array, tokens: number, k: number, experts: number): DispatchPlan {
  const counts = new Int32Array(experts);
  for (let j = 0; j < tokens * k; j++) counts[indices[j]!]! += 1;
  const start = new Int32Array(experts);
  for (let e = 1; e < experts; e++) start[e] = start[e - 1]! + counts[e - 1]!;
  const sortedTokens = new Int32Array(tokens * k);
  const inverse = new Int32Array(tokens * k);
  for (let j = 0; j < tokens * k; j++) {
    const e = indices[j]!;
    const position = start[e]!;
    start[e] = position + 1;
    sortedTokens[position] = Math.floor(j / k);
    inverse[j] = position;
  }
  return { sortedTokens, inverse, counts };
}
