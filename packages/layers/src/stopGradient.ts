import { tf } from '@deepline/core';

// Identity forward, zero gradient backward.
const blocked = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = inputs[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

/**
 * Identity in the forward pass, zero gradient backwards. Router selection (group masks,
 * top-k) only picks indices, so cutting it keeps the backward pass from walking it.
 */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  return blocked(x);
}
