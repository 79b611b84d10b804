import type { SeededRandom, tf } from '@deepline/core';
import type { RoutingRecord } from './balance.js';

/** What the trainer asks of a forward pass. */
export interface TrainForwardOptions {
  /** True in training steps, false in evaluation. */
  training: boolean;
  /** Whether MoE layers must report their routing (balance loss, bias update, load logging). */
  collectRouting: boolean;
  /** Whether MTP logits are wanted (training with λ > 0). */
  mtp: boolean;
  /** Recompute each block's activations during backprop instead of keeping them. */
  recompute: boolean;
  /** The run's checkpointed random stream, for models that draw randomness while training. */
  rng: SeededRandom;
}

/** What a forward pass returns. */
export interface TrainForwardOutput {
  /** Next-token logits [B, S, V] for the S input positions. */
  logits: tf.Tensor;
  /** MTP logits per depth k=1..D: [B, L_k, V], position i predicting input token i+k+1. */
  mtpLogits?: tf.Tensor[];
  /** One record per MoE layer, when `collectRouting` was set. */
  routing?: RoutingRecord[];
}

/**
 * The structural model contract of the trainer. @deepline/layers' DeepseekModel is adapted
 * to it by `deepseekTrainable`; small hand-written models implement it directly.
 */
export interface TrainableModel {
  /**
   * Every weight by its HF name, trainable or not. Variables with `trainable === false`
   * (MoE gate correction biases) are checkpointed but not optimised.
   */
  namedWeights(): Map<string, tf.Variable>;
  /** Differentiable forward pass over int32 tokens [B, S]. */
  forward(tokens: tf.Tensor2D, options: TrainForwardOptions): TrainForwardOutput;
  /**
   * Writes a directory the model package can load (config + safetensors). When absent,
   * the trainer writes `namedWeights()` as `model.safetensors`.
   */
  save?(dir: string): Promise<void>;
  /** Hyper-parameters logged as tracker params (e.g. the architecture config). */
  describe?(): Record<string, string | number | boolean>;
}
