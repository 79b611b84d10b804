import { tf } from '@deepline/core';
import { decoderGqaOptions } from './attention/decoderAttention.js';
import { GroupedQueryAttention } from './attention/gqa.js';
import type { DeepseekConfig } from './config.js';
import type { AttentionImpl, LayerKvCache } from './kvCache.js';
import { MultiHeadLatentAttention } from './mla.js';
import { swiGlu, swiGluWeightNames } from './mlp.js';
import { MoeLayer, type RoutingInfo } from './moe.js';
import { recomputeSublayer } from './recompute.js';
import { rmsNorm } from './rmsNorm.js';
import type { RopeTables } from './rope.js';
import type { WeightStore } from './weightStore.js';

/** Inputs of one block call. */
export interface BlockForwardOptions {
  h: tf.Tensor3D;
  rope: RopeTables;
  mask?: tf.Tensor2D;
  startPos: number;
  cache?: LayerKvCache;
  impl: AttentionImpl;
  /** Recompute the attention and FFN sublayers in backprop instead of keeping their activations (training). */
  recompute?: boolean;
}

/**
 * Pre-norm decoder block (spec §2): `h + MLA(norm(h))`, then `h + FFN(norm(h))` where FFN is
 * the dense SwiGLU MLP for the first nDenseLayers blocks and DeepSeekMoE afterwards.
 */
export class DecoderBlock {
  /** MLA, or GQA when config.attention is set. */
  readonly attention: MultiHeadLatentAttention | GroupedQueryAttention;
  readonly moe: MoeLayer | undefined;

  constructor(
    private readonly config: DeepseekConfig,
    private readonly store: WeightStore,
    /** HF prefix, e.g. `model.layers.3`. */
    readonly prefix: string,
    readonly layer: number,
    isMoe: boolean,
  ) {
    this.attention = config.attention
      ? new GroupedQueryAttention(decoderGqaOptions(config, layer), store, `${prefix}.self_attn`)
      : new MultiHeadLatentAttention(config, store, `${prefix}.self_attn`);
    this.moe = isMoe ? new MoeLayer(config, store, `${prefix}.mlp`, layer) : undefined;
  }

  forward(options: BlockForwardOptions): { h: tf.Tensor3D; routing?: RoutingInfo } {
    const eps = this.config.rmsNormEps;
    const recompute = options.recompute ?? false;
    const attention = (x: tf.Tensor, context: tf.Tensor[]): tf.Tensor => {
      const attnIn = rmsNorm({ x, weight: this.store.param(`${this.prefix}.input_layernorm.weight`), eps }) as tf.Tensor3D;
      return this.attention instanceof GroupedQueryAttention
        ? this.attention.forward({ x: attnIn, startPos: options.startPos, cache: options.cache })
        : this.attention.forward({ ...options, x: attnIn, mask: context[0] as tf.Tensor2D | undefined });
    };
    const context = options.mask ? [options.mask] : [];
    const attnOut = recompute
      ? recomputeSublayer({ fn: attention, x: options.h, weights: this.attentionWeights(), context })
      : attention(options.h, context);
    const h = tf.add(options.h, attnOut) as tf.Tensor3D;
    const ffnNorm = `${this.prefix}.post_attention_layernorm.weight`;
    if (this.moe) {
      // Routing (scores for the balance loss, host-side dispatch) stays on the normal tape;
      // only the expert MLPs are recomputed.
      const ffnIn = rmsNorm({ x: h, weight: this.store.param(ffnNorm), eps }) as tf.Tensor3D;
      const { y, routing } = this.moe.forward(ffnIn, { recompute });
      return { h: tf.add(h, y) as tf.Tensor3D, routing };
    }
    const mlpPrefix = `${this.prefix}.mlp`;
    const mlp = (x: tf.Tensor): tf.Tensor =>
      swiGlu({ x: rmsNorm({ x, weight: this.store.param(ffnNorm), eps }), store: this.store, prefix: mlpPrefix });
    const ffnOut = recompute
      ? recomputeSublayer({ fn: mlp, x: h, weights: this.store.trainableOf([ffnNorm, ...swiGluWeightNames(mlpPrefix)]) })
      : mlp(h);
    return { h: tf.add(h, ffnOut) as tf.Tensor3D };
  }

  private attentionNames: string[] | undefined;

  /** Trainable variables of the attention sublayer (its input norm and every weight under self_attn). */
  private attentionWeights(): tf.Variable[] {
    // Names are fixed for the model's life (replaceLinear keeps them), variables may change.
    this.attentionNames ??= [`${this.prefix}.input_layernorm.weight`, ...this.store.namesUnder(`${this.prefix}.self_attn`)];
    return this.store.trainableOf(this.attentionNames);
  }
}
