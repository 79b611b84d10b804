import { tf } from '@deepline/core';

/**
 * Runs `fn` as one opaque op with zero gradient for its inputs. Ops inside `fn` are not
 * recorded on the gradient tape, so ops without gradients (Greater, TopK indices…) may be
 * used. Router selection (group masks, top-k) only picks indices, so it runs this way.
 */
export function withoutGradient(inputs: tf.Tensor[], fn: (...xs: tf.Tensor[]) => tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    return { value: fn(...xs), gradFunc: () => xs.map((x) => tf.zerosLike(x)) };
  });
  return op(...inputs);
}

/** Identity in the forward pass, zero gradient backwards. */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  return withoutGradient([x], (v) => tf.clone(v));
}
