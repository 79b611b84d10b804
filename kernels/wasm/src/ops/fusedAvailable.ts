import { tf } from '@deepline/core';

/** True when the active backend is wasm and deepline's fused kernel `name` is registered. */
export function fusedAvailable(name: string): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(name, 'wasm') !== undefined;
}

/** Runs one of deepline's kernels through the engine (so it is profiled and tidied). */
export function runFused<T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): T {
  return tf.engine().runKernel(name, inputs, attrs) as unknown as T;
}

/** What a fused op's forward returns: the value and its gradient function. */
export interface FusedResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/** tf.customGrad over `arity` tensor inputs with a typed callback. */
export function fusedOp(arity: number, f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => FusedResult): (...inputs: tf.Tensor[]) => tf.Tensor {
  const wrapped = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const result = f(args.slice(0, arity) as tf.Tensor[], args[arity] as tf.GradSaveFunc);
    return { value: result.value, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => result.gradFunc(dy as tf.Tensor, saved) };
  };
  return tf.customGrad(wrapped as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}
