import { tf } from '@deepline/core';

/** Internal engine state touched by recompute (tfjs keeps one global tape). */
interface EngineWithTape {
  state: { activeTape: unknown };
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: (tf.Tensor | null)[] };
}

/** Options of recomputeSublayer. */
export interface RecomputeSublayerOptions {
  /**
   * The sublayer: `x` and the saved `context` tensors → output. It may read `weights`
   * directly (closures over the model's variables); any other tensor it needs must come
   * through `context`, because tensors created by the caller are freed before backprop.
   */
  fn: (x: tf.Tensor, context: tf.Tensor[]) => tf.Tensor;
  /** The differentiable input (the block's residual stream). */
  x: tf.Tensor;
  /** Trainable variables `fn` reads; they receive their gradients through this op. */
  weights: tf.Variable[];
  /** Non-differentiable tensors `fn` needs (e.g. the attention mask), kept until backprop. */
  context?: tf.Tensor[];
}

/**
 * Activation recomputation ("gradient checkpointing") of one sublayer: runs `fn` as one
 * taped op that keeps only `x` and `context`, and re-runs `fn` under a fresh tape in the
 * backward pass to get the gradients of `x` and of every weight. tfjs custom gradients
 * only reach the op's explicit inputs, so the weights are passed as inputs (the forward
 * ignores those arguments and reads the variables themselves, which is the same tensor).
 */
export function recomputeSublayer({ fn, x, weights, context = [] }: RecomputeSublayerOptions): tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[1 + weights.length] as tf.GradSaveFunc;
    save([x, ...context]);
    return {
      value: fn(x, context),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, ...savedContext] = saved as [tf.Tensor, ...tf.Tensor[]];
        const engine = tf.engine() as unknown as EngineWithTape;
        // The inner pass replaces the global tape; the outer backprop still needs its own
        // tape for cleanup, so put it back afterwards.
        const outerTape = engine.state.activeTape;
        try {
          const xs = [savedX, ...weights];
          const { value, grads } = engine.gradients(() => fn(savedX, savedContext), xs, dy, true);
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(xs[i]!));
        } finally {
          engine.state.activeTape = outerTape;
        }
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, ...weights);
}
