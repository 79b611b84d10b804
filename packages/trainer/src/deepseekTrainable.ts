import type { DeepseekModel } from '@deepline/layers';
import type { RoutingRecord } from './balance.js';
import type { TrainableModel, TrainForwardOptions, TrainForwardOutput } from './model.js';

/**
 * Adapts @deepline/layers' DeepseekModel to the trainer: its trainable weights plus the
 * gate correction biases (non-trainable, updated by the bias rule), a training forward
 * that returns MTP logits and per-MoE-layer routing (MTP blocks included) and honours
 * `recompute` (per-sublayer activation recomputation in the layers package), and `save`
 * writing the HF directory `DeepseekModel.load` reads.
 */
export function deepseekTrainable(model: DeepseekModel): TrainableModel {
  const weights = new Map([...model.namedWeights(), ...model.correctionBiases()]);
  const biases = model.correctionBiases();
  return {
    namedWeights: () => weights,
    forward(tokens, options: TrainForwardOptions): TrainForwardOutput {
      const out = model.forward(tokens, {
        training: options.training,
        collectRouting: options.collectRouting,
        mtp: options.mtp,
        recompute: options.recompute,
      });
      const result: TrainForwardOutput = { logits: out.logits };
      if (out.mtpLogits) result.mtpLogits = out.mtpLogits;
      if (out.routing) {
        result.routing = out.routing.map((r): RoutingRecord => {
          const biasName = `model.layers.${r.layer}.mlp.gate.e_score_correction_bias`;
          return {
            layer: r.layer,
            scores: r.scores,
            indices: r.indices,
            biasName: biases.has(biasName) ? biasName : undefined,
          };
        });
      }
      return result;
    },
    async save(dir: string) {
      await model.save(dir);
    },
    describe() {
      return Object.fromEntries(
        Object.entries(model.config).map(([k, v]) => [
          `model_${k}`,
          v as string | number | boolean,
        ]),
      );
    },
  };
}
