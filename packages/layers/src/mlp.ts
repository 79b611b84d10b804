import { fusedOp, tf } from '@deepline/core';
import type { WeightStore } from './weightStore.js';

/** HF names and shapes of a SwiGLU MLP under `prefix` (`gate_proj`=w1, `up_proj`=w3, `down_proj`=w2). */
export function mlpWeightShapes(prefix: string, dim: number, hidden: number): { name: string; shape: number[] }[] {
  return [
    { name: `${prefix}.gate_proj.weight`, shape: [hidden, dim] },
    { name: `${prefix}.up_proj.weight`, shape: [hidden, dim] },
    { name: `${prefix}.down_proj.weight`, shape: [dim, hidden] },
  ];
}

/** HF weight names of the SwiGLU MLP under `prefix`. */
export function swiGluWeightNames(prefix: string): string[] {
  return [`${prefix}.gate_proj.weight`, `${prefix}.up_proj.weight`, `${prefix}.down_proj.weight`];
}

/** Options of swiGlu. */
export interface SwiGluOptions {
  x: tf.Tensor;
  store: WeightStore;
  /** HF prefix, e.g. `model.layers.0.mlp` or `model.layers.1.mlp.experts.3`. */
  prefix: string;
}

/** SwiGLU MLP `w2 · (silu(w1·x) ⊙ (w3·x))` (spec §7.2); the gating uses a registered fused `siluMul` when there is one. */
export function swiGlu({ x, store, prefix }: SwiGluOptions): tf.Tensor {
  return tf.tidy(() => {
    const gate = store.linear(`${prefix}.gate_proj.weight`).apply(x);
    const up = store.linear(`${prefix}.up_proj.weight`).apply(x);
    const fused = fusedOp('siluMul');
    const act = fused && gate.dtype === 'float32' ? fused({ gate, up }) : tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
    return store.linear(`${prefix}.down_proj.weight`).apply(act);
  });
}
