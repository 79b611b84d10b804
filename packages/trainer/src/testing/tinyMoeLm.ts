import { SeededRandom, tf } from '@deepline/core';
import type { RoutingRecord } from '../balance.js';
import type { TrainableModel, TrainForwardOptions, TrainForwardOutput } from '../model.js';
import { recomputeGrad } from '../recompute.js';

/** Size of TinyMoeLm. */
export interface TinyMoeLmConfig {
  vocabSize: number;
  dim: number;
  nExperts: number;
  topK: number;
  /** Adds one MTP head predicting two tokens ahead. */
  mtp?: boolean;
}

/**
 * A small hand-written MoE language model for the trainer's own tests: embedding of the
 * current and previous token, one sigmoid-routed MoE layer with a selection-only
 * correction bias (as DeepSeek-V3), RMSNorm, LM head, and an optional MTP head. Weights
 * use HF DeepSeek names so checkpoints look like the real model's.
 */
export class TinyMoeLm implements TrainableModel {
  readonly config: TinyMoeLmConfig;
  private readonly weights = new Map<string, tf.Variable>();

  constructor(config: TinyMoeLmConfig, seed = 1) {
    this.config = config;
    const rng = new SeededRandom(seed);
    const { vocabSize: v, dim: d, nExperts: e } = config;
    const add = (
      name: string,
      shape: number[],
      std: number | 'ones' | 'zeros',
      trainable = true,
    ) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data =
        std === 'ones'
          ? new Float32Array(size).fill(1)
          : std === 'zeros'
            ? new Float32Array(size)
            : rng.normalArray(size, std);
      this.weights.set(name, tf.variable(tf.tensor(data, shape, 'float32'), trainable));
    };
    add('model.embed_tokens.weight', [v, d], 0.5);
    add('model.layers.0.prev_proj.weight', [d, d], 0.3);
    add('model.layers.0.mlp.gate.weight', [e, d], 0.5);
    add('model.layers.0.mlp.gate.e_score_correction_bias', [e], 'zeros', false);
    for (let i = 0; i < e; i++)
      add(`model.layers.0.mlp.experts.${i}.down_proj.weight`, [d, d], 0.3);
    add('model.norm.weight', [d], 'ones');
    add('lm_head.weight', [v, d], 0.3);
    if (config.mtp) add('model.layers.1.eh_proj.weight', [d, 2 * d], 0.3);
  }

  namedWeights(): Map<string, tf.Variable> {
    return this.weights;
  }

  private w(name: string): tf.Variable {
    return this.weights.get(name)!;
  }

  forward(tokens: tf.Tensor2D, options: TrainForwardOptions): TrainForwardOutput {
    const { dim: d, nExperts: e, topK: k } = this.config;
    const [b, s] = tokens.shape;
    const embed = this.w('model.embed_tokens.weight');
    const emb = tf.gather(embed, tf.reshape(tokens, [b * s])); // [T, D]
    // Previous-token features: shift the embeddings down by one position within each sequence.
    const prev = tf.reshape(
      tf.pad(tf.slice(tf.reshape(emb, [b, s, d]), [0, 0, 0], [b, s - 1, d]), [
        [0, 0],
        [1, 0],
        [0, 0],
      ]),
      [b * s, d],
    );
    const h = tf.add(
      emb,
      tf.tanh(tf.matMul(prev, this.w('model.layers.0.prev_proj.weight'), false, true)),
    );
    // Router: sigmoid affinities; the bias only affects which experts are selected.
    const scores = tf.sigmoid(tf.matMul(h, this.w('model.layers.0.mlp.gate.weight'), false, true)); // [T, E]
    const bias = this.w('model.layers.0.mlp.gate.e_score_correction_bias');
    const { indices } = tf.topk(tf.add(scores, bias), k);
    const mask = tf.sum(
      tf.reshape(tf.cast(tf.oneHot(tf.reshape(indices, [b * s * k]), e), 'float32'), [b * s, k, e]),
      1,
    );
    const picked = tf.mul(scores, mask);
    const gates = tf.div(picked, tf.sum(picked, -1, true));
    const experts = Array.from({ length: e }, (_, i) =>
      this.w(`model.layers.0.mlp.experts.${i}.down_proj.weight`),
    );
    const moe = (x: tf.Tensor, g: tf.Tensor, ...ws: tf.Tensor[]) =>
      tf.add(
        x,
        tf.addN(
          ws.map((wi, i) =>
            tf.mul(tf.slice(g, [0, i], [-1, 1]), tf.tanh(tf.matMul(x, wi, false, true))),
          ),
        ),
      );
    const h2 = options.recompute
      ? recomputeGrad(moe, [h, gates, ...experts])
      : moe(h, gates, ...experts);
    const normed = rmsNorm(h2, this.w('model.norm.weight'));
    const head = this.w('lm_head.weight');
    const logits = tf.reshape(tf.matMul(normed, head, false, true), [b, s, -1]);
    const out: TrainForwardOutput = { logits };
    if (options.collectRouting) {
      const record: RoutingRecord = {
        layer: 0,
        scores,
        indices,
        biasName: 'model.layers.0.mlp.gate.e_score_correction_bias',
      };
      out.routing = [record];
    }
    if (this.config.mtp && options.mtp && s > 1) {
      // MTP depth 1: position i combines h_i with the embedding of token i+1 and predicts token i+2.
      const hh = tf.slice(tf.reshape(normed, [b, s, d]), [0, 0, 0], [b, s - 1, d]);
      const next = tf.slice(tf.reshape(emb, [b, s, d]), [0, 1, 0], [b, s - 1, d]);
      const cat = tf.reshape(tf.concat([next, hh], -1), [b * (s - 1), 2 * d]);
      const hm = tf.tanh(tf.matMul(cat, this.w('model.layers.1.eh_proj.weight'), false, true));
      out.mtpLogits = [
        tf.reshape(tf.matMul(rmsNorm(hm, this.w('model.norm.weight')), head, false, true), [
          b,
          s - 1,
          -1,
        ]),
      ];
    }
    return out;
  }

  describe(): Record<string, string | number | boolean> {
    return { model: 'tiny-moe-lm', ...this.config, mtp: this.config.mtp ?? false };
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
  }
}

function rmsNorm(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w);
}
