import { tf } from '@deepline/core';
import { decoderGqaOptions } from './attention/decoderAttention.js';
import { GroupedQueryAttention } from './attention/gqa.js';
import type { DeepseekConfig } from './config.js';
import type { AttentionImpl, LayerKvCache } from './kvCache.js';
import { MultiHeadLatentAttention } from './mla.js';
import { swiGlu } from './mlp.js';
import { MoeLayer, type RoutingInfo } from './moe.js';
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
    const attnIn = rmsNorm({ x: options.h, weight: this.store.param(`${this.prefix}.input_layernorm.weight`), eps }) as tf.Tensor3D;
    const attnOut =
      this.attention instanceof GroupedQueryAttention
        ? this.attention.forward({ x: attnIn, startPos: options.startPos, cache: options.cache })
        : this.attention.forward({ ...options, x: attnIn });
    const h = tf.add(options.h, attnOut) as tf.Tensor3D;
    const ffnIn = rmsNorm({ x: h, weight: this.store.param(`${this.prefix}.post_attention_layernorm.weight`), eps }) as tf.Tensor3D;
    if (this.moe) {
      const { y, routing } = this.moe.forward(ffnIn);
      return { h: tf.add(h, y) as tf.Tensor3D, routing };
    }
    return { h: tf.add(h, swiGlu({ x: ffnIn, store: this.store, prefix: `${this.prefix}.mlp` })) as tf.Tensor3D };
  }
}
