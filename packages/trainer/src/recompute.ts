import { tf } from '@deepline/core';

/** Internal engine state touched by recompute (tfjs keeps one global tape). */
interface EngineWithTape {
  state: { activeTape: unknown };
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: tf.Tensor[] };
}

/**
 * Activation recomputation ("gradient checkpointing") for one block: runs `fn` without
 * recording its intermediate activations, keeps only its inputs, and recomputes the block
 * during backprop. Every tensor the block depends on — including its weights — must be
 * passed in `inputs` and used through `fn`'s arguments, because tfjs custom gradients only
 * flow to explicit inputs. Returns `fn(...inputs)`; gradients equal those of `fn` itself.
 */
export function recomputeGrad(
  fn: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
): tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    const save = args[inputs.length] as tf.GradSaveFunc;
    save(xs);
    return {
      value: fn(...xs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const engine = tf.engine() as unknown as EngineWithTape;
        // The inner pass resets the global tape when it ends; the outer backprop still
        // needs its own tape for cleanup, so put it back afterwards.
        const outerTape = engine.state.activeTape;
        try {
          const { value, grads } = engine.gradients(() => fn(...saved), saved, dy, true);
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(saved[i]!));
        } finally {
          engine.state.activeTape = outerTape;
        }
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs);
}
