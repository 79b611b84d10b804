import { tf } from '@deepline/core';
import { LayersError } from './errors.js';

/**
 * A bias-free linear projection `y = x · Wᵀ` with `W` stored `[outFeatures, inFeatures]`
 * (PyTorch/HF convention). Every projection of the model goes through this interface so a
 * quantizer can swap one implementation for another (`DeepseekModel.replaceLinear`).
 */
export interface Linear {
  /** HF weight name, e.g. `model.layers.0.self_attn.o_proj.weight`. */
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** `[..., inFeatures]` → `[..., outFeatures]`. Must be differentiable if it owns trainable weights. */
  apply(x: tf.Tensor): tf.Tensor;
  /**
   * The weight as a float32 `[outFeatures, inFeatures]` matrix (a quantized implementation
   * dequantizes). Used by the absorbed attention path, which folds `wkv_b` into the query.
   * The caller disposes the result unless it is the implementation's own variable
   * (call inside `tf.tidy`).
   */
  weightMatrix(): tf.Tensor2D;
  /** Trainable variables owned by this implementation (empty for a frozen/quantized one). */
  trainableVariables(): tf.Variable[];
  /** Frees the implementation's tensors. */
  dispose(): void;
}

/** Options of DenseLinear. */
export interface DenseLinearOptions {
  name: string;
  /** Float32 `[outFeatures, inFeatures]` weight; becomes a trainable tf.Variable. */
  weight: tf.Tensor2D;
  /** Whether the variable is trainable (default true). */
  trainable?: boolean;
}

/** The default float32 Linear backed by one tf.Variable `[out, in]`. */
export class DenseLinear implements Linear {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable<tf.Rank.R2>;

  constructor(options: DenseLinearOptions) {
    const shape = options.weight.shape;
    if (shape.length !== 2) {
      throw new LayersError(`linear '${options.name}' needs a 2-D weight, got shape [${shape.join(', ')}]`, {
        code: 'LINEAR_SHAPE',
        context: { tensor: options.name, actualShape: [...shape] },
      });
    }
    this.name = options.name;
    this.outFeatures = shape[0]!;
    this.inFeatures = shape[1]!;
    this.weight = tf.variable(options.weight, options.trainable ?? true, uniqueVariableName(options.name)) as tf.Variable<tf.Rank.R2>;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      const y = tf.matMul(flat, this.weight, false, true);
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }

  weightMatrix(): tf.Tensor2D {
    return this.weight;
  }

  trainableVariables(): tf.Variable[] {
    return this.weight.trainable ? [this.weight] : [];
  }

  dispose(): void {
    this.weight.dispose();
  }
}

let variableCounter = 0;

/** tfjs variable names are global; suffix a counter so several models can coexist. */
export function uniqueVariableName(name: string): string {
  variableCounter += 1;
  return `${name}#${variableCounter}`;
}
