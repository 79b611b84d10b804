import { tf } from '@deepline/core';
import { KernelsError } from '../errors.js';
import { KERNEL } from '../kernels/fusedKernels.js';
import { fusedAvailable, runFused } from './fusedAvailable.js';

/** Options of {@link FusedAdamOptimizer}; the defaults are tf.train.adam's. */
export interface FusedAdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** A named tensor, as tfjs optimizers exchange them (tfjs-core does not export the type). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * Adam with tf.train.adam's update rule, applied by one fused kernel per variable on wasm
 * (instead of ~12 element-wise kernels); composed tfjs ops elsewhere. Drop-in for
 * `optimizer.minimize(...)` / `applyGradients(...)`.
 */
export class FusedAdamOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'DeeplineFusedAdam';
  }

  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private step = 0;
  private readonly slots = new Map<string, Slot>();

  constructor(options: FusedAdamOptions) {
    super();
    const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = tf.backend()?.epsilon?.() ?? 1e-7 } = options;
    for (const [field, value, ok] of [
      ['learningRate', learningRate, learningRate > 0],
      ['beta1', beta1, beta1 >= 0 && beta1 < 1],
      ['beta2', beta2, beta2 >= 0 && beta2 < 1],
      ['epsilon', epsilon, epsilon > 0],
    ] as const) {
      if (!ok || !Number.isFinite(value)) {
        throw new KernelsError(`FusedAdamOptimizer: ${field} out of range: ${value}`, { code: 'BAD_ATTR', context: { op: 'FusedAdamOptimizer', field } });
      }
    }
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients);
    this.step += 1;
    const attrs = { lr: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step: this.step };
    const fused = fusedAvailable(KERNEL.adam);
    for (const [name, grad] of entries) {
      const variable = tf.engine().registeredVariables[name];
      if (!variable) {
        throw new KernelsError(`FusedAdamOptimizer: no variable named '${name}'`, { code: 'UNKNOWN_VARIABLE', context: { op: 'FusedAdamOptimizer', field: name } });
      }
      if (grad == null) continue;
      const slot = this.slotFor(name, variable);
      tf.tidy(() => {
        const [w, m, v] =
          fused && variable.dtype === 'float32'
            ? runFused<tf.Tensor[]>(KERNEL.adam, { value: variable, grad, m: slot.m, v: slot.v }, attrs)
            : this.composedStep(variable, grad, slot, attrs.step);
        slot.m.assign(m!);
        slot.v.assign(v!);
        variable.assign(w!);
      });
    }
    this.incrementIterations();
  }

  /** tf.train.adam's arithmetic with tfjs ops (non-wasm backends). */
  private composedStep(variable: tf.Variable, grad: tf.Tensor, slot: Slot, step: number): tf.Tensor[] {
    const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(grad, 1 - this.beta1));
    const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
    const mHat = tf.div(m, 1 - this.beta1 ** step);
    const vHat = tf.div(v, 1 - this.beta2 ** step);
    const w = tf.sub(variable, tf.div(tf.mul(mHat, this.learningRate), tf.add(tf.sqrt(vHat), this.epsilon)));
    return [w, m, v];
  }

  private slotFor(name: string, variable: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) }));
      this.slots.set(name, slot);
    }
    return slot;
  }

  override dispose(): void {
    for (const { m, v } of this.slots.values()) tf.dispose([m, v]);
    this.slots.clear();
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const [name, { m, v }] of this.slots) weights.push({ name: `${name}/m`, tensor: m }, { name: `${name}/v`, tensor: v });
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.step = this.iterations;
    for (const { name, tensor } of rest) {
      const [varName, kind] = [name.slice(0, name.lastIndexOf('/')), name.slice(name.lastIndexOf('/') + 1)];
      const variable = tf.engine().registeredVariables[varName];
      if (!variable) continue;
      const slot = this.slotFor(varName, variable);
      (kind === 'm' ? slot.m : slot.v).assign(tensor);
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
