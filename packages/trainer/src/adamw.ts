import { tf } from '@deepline/core';
import { checkNumber, TrainerError } from './errors.js';

/** Options of AdamW. Defaults are DeepSeek-V3's pre-training settings (report §4.2). */
export interface AdamWOptions {
  /** Trainable variables by (HF) name; their order fixes the update order. */
  params: Map<string, tf.Variable>;
  /** First-moment decay β1 (default 0.9). */
  beta1?: number;
  /** Second-moment decay β2 (default 0.95). */
  beta2?: number;
  /** Denominator epsilon (default 1e-8). */
  epsilon?: number;
  /** Decoupled weight decay coefficient (default 0.1). */
  weightDecay?: number;
  /**
   * Which parameters are decayed. Default: matrices (rank ≥ 2) whose name does not
   * mention a norm or a bias — norms and biases are never decayed.
   */
  decay?: (name: string, shape: readonly number[]) => boolean;
}

/** Exact optimizer state, as stored in a checkpoint. */
export interface AdamWState {
  /** Number of updates applied (the bias-correction exponent). */
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/** Default decay rule: no decay on vectors (norm weights, biases) or names containing norm/bias. */
export function defaultDecay(name: string, shape: readonly number[]): boolean {
  return shape.length >= 2 && !/norm|bias/i.test(name);
}

/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), written over tf.Variables so
 * its moments are ordinary tensors a checkpoint can save and restore bit-exactly:
 * `p ← p − lr·wd·p − lr·m̂/(√v̂ + ε)` with bias-corrected moments.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly params: Map<string, tf.Variable>;
  private readonly decayed: Set<string>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(options: AdamWOptions) {
    this.beta1 = checkNumber('optimizer.beta1', options.beta1 ?? 0.9, 0, 0.999999);
    this.beta2 = checkNumber('optimizer.beta2', options.beta2 ?? 0.95, 0, 0.999999);
    this.epsilon = checkNumber('optimizer.epsilon', options.epsilon ?? 1e-8, 0);
    this.weightDecay = checkNumber('optimizer.weightDecay', options.weightDecay ?? 0.1, 0);
    this.params = options.params;
    const decay = options.decay ?? defaultDecay;
    this.decayed = new Set(
      [...options.params].filter(([n, p]) => decay(n, p.shape)).map(([n]) => n),
    );
    for (const [name, p] of options.params) {
      this.m.set(name, tf.variable(tf.zeros(p.shape), false));
      this.v.set(name, tf.variable(tf.zeros(p.shape), false));
    }
  }

  /** Updates applied so far. */
  get step(): number {
    return this.t;
  }

  /** Whether `name` receives weight decay. */
  isDecayed(name: string): boolean {
    return this.decayed.has(name);
  }

  /**
   * Applies one update with learning rate `lr`. `grads` must hold a gradient for every
   * parameter (the caller zero-fills unused ones); they are not disposed.
   */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    // Bias corrections are computed in double precision once, then used as float32 scalars.
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g)
        throw new TrainerError(`AdamW: no gradient for '${name}'`, {
          code: 'GRAD_MISSING',
          context: { tensor: name },
        });
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const update = tf.div(tf.div(mNew, c1), tf.add(tf.sqrt(tf.div(vNew, c2)), this.epsilon));
        const decayed =
          this.decayed.has(name) && this.weightDecay > 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
        m.assign(mNew);
        v.assign(vNew);
      });
    }
  }

  /** Copies the state out of the tensors. */
  getState(): AdamWState {
    const read = (src: Map<string, tf.Variable>) =>
      new Map([...src].map(([n, t]) => [n, (t.dataSync() as Float32Array).slice()]));
    return { step: this.t, m: read(this.m), v: read(this.v) };
  }

  /** Restores a state saved by getState (shapes are checked, names must match). */
  setState(state: AdamWState): void {
    for (const [kind, src, dst] of [
      ['m', state.m, this.m],
      ['v', state.v, this.v],
    ] as const) {
      for (const [name, variable] of dst) {
        const data = src.get(name);
        if (!data || data.length !== variable.size) {
          throw new TrainerError(
            `optimizer state '${kind}.${name}' is ${data ? `of size ${data.length}, expected ${variable.size}` : 'missing'}`,
            {
              code: 'OPTIMIZER_STATE',
              context: { tensor: `${kind}.${name}` },
            },
          );
        }
        tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, 'float32')));
      }
    }
    this.t = state.step;
  }

  /** Frees the moment tensors. */
  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
