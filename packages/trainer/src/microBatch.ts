import { type SeededRandom, tf } from '@deepline/core';
import { expertLoad, type RoutingRecord, sequenceBalanceLoss } from './balance.js';
import type { TokenBatch } from './batchSource.js';
import { TrainerError } from './errors.js';
import { crossEntropy, mtpLoss, shiftTokens } from './losses.js';
import type { TrainableModel } from './model.js';

/** Loss weights and switches of one micro-batch. */
export interface MicroBatchOptions {
  model: TrainableModel;
  batch: TokenBatch;
  /** Trainable variables by HF name (the gradient targets). */
  params: Map<string, tf.Variable>;
  /** Balance-loss factor α (0 disables the loss but routing is still collected for loads). */
  balanceAlpha: number;
  /** MTP loss weight λ (0 disables it). */
  mtpLambda: number;
  recompute: boolean;
  rng: SeededRandom;
}

/** Gradients and loss parts of one micro-batch (tensors owned by the caller). */
export interface MicroBatchResult {
  grads: Map<string, tf.Tensor>;
  loss: number;
  lmLoss: number;
  balanceLoss: number;
  mtpLoss: number;
  /** Expert assignments per MoE layer, with the layer's bias name. */
  loads: { layer: number; load: Float64Array; biasName?: string }[];
  tokens: number;
}

/** Validates a batch's shape against its data; names the bad field. */
export function batchTensor(batch: TokenBatch): tf.Tensor2D {
  const { batchSize, seqLen, tokens } = batch;
  if (
    !Number.isInteger(batchSize) ||
    !Number.isInteger(seqLen) ||
    tokens.length !== batchSize * seqLen
  ) {
    throw new TrainerError(
      `batch holds ${tokens.length} tokens, expected batchSize×seqLen = ${batchSize}×${seqLen}`,
      {
        code: 'DATA_SHAPE',
        context: { field: 'tokens' },
      },
    );
  }
  return tf.tensor2d(tokens, [batchSize, seqLen], 'int32');
}

/**
 * Forward + backward of one micro-batch: loss = LM cross-entropy + α·balance (summed over
 * MoE layers) + λ·MTP. Routing indices are kept out of the gradient scope to count loads.
 */
export function microBatchGradients(options: MicroBatchOptions): MicroBatchResult {
  const { model, batch, params } = options;
  const tokens = batchTensor(batch);
  const kept: tf.Tensor[] = [];
  const routingKept: RoutingRecord[] = [];
  const parts: { lm?: tf.Scalar; bal?: tf.Scalar; mtp?: tf.Scalar } = {};
  const names = [...params.keys()];
  const vars = names.map((n) => params.get(n)!);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const { inputs, targets } = shiftTokens(tokens);
      const out = model.forward(inputs, {
        training: true,
        collectRouting: true,
        mtp: options.mtpLambda > 0,
        recompute: options.recompute,
        rng: options.rng,
      });
      const lm = crossEntropy(out.logits, targets);
      let total: tf.Scalar = lm;
      parts.lm = tf.keep(tf.clone(lm));
      if (out.routing && out.routing.length > 0) {
        for (const r of out.routing) {
          routingKept.push({ ...r, indices: tf.keep(tf.clone(r.indices)), scores: r.scores });
          kept.push(routingKept.at(-1)!.indices);
        }
        if (options.balanceAlpha > 0) {
          const bal = tf.addN(
            out.routing.map((r) =>
              // MTP blocks route shorter sequences than the main blocks.
              sequenceBalanceLoss({
                scores: r.scores,
                indices: r.indices,
                batchSize: batch.batchSize,
                seqLen: r.scores.shape[0]! / batch.batchSize,
                alpha: options.balanceAlpha,
              }),
            ),
          ) as tf.Scalar;
          parts.bal = tf.keep(tf.clone(bal));
          total = tf.add(total, bal);
        }
      }
      if (out.mtpLogits && out.mtpLogits.length > 0 && options.mtpLambda > 0) {
        const mtp = mtpLoss({ mtpLogits: out.mtpLogits, tokens, lambda: options.mtpLambda });
        parts.mtp = tf.keep(tf.clone(mtp));
        total = tf.add(total, mtp);
      }
      return total;
    }, vars);
    const byName = new Map<string, tf.Tensor>();
    names.forEach((name, i) => {
      const g = grads[vars[i]!.name];
      byName.set(name, g ?? tf.zerosLike(vars[i]!));
    });
    const loss = value.dataSync()[0]!;
    value.dispose();
    const read = (t?: tf.Scalar) => (t ? t.dataSync()[0]! : 0);
    const loads = routingKept.map((r) => ({
      layer: r.layer,
      load: expertLoad(r.indices, r.scores.shape[1]!),
      biasName: r.biasName,
    }));
    return {
      grads: byName,
      loss,
      lmLoss: read(parts.lm),
      balanceLoss: read(parts.bal),
      mtpLoss: read(parts.mtp),
      loads,
      tokens: batch.batchSize * (batch.seqLen - 1),
    };
  } finally {
    tf.dispose([
      tokens,
      ...kept,
      ...Object.values(parts).filter((t): t is tf.Scalar => t !== undefined),
    ]);
  }
}
