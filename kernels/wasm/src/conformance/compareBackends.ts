import { initBackend, tf } from '@deepline/core';
import { seededFloats } from '@deepline/test-helpers';

export { toleranceRatio } from '@deepline/test-helpers';
import { registerWasmKernels } from '../registerWasmKernels.js';

/** One input of a conformance case: float data from a seed, or fixed data (ids, bytes). */
export interface CaseInput {
  shape: number[];
  seed?: number;
  scale?: number;
  data?: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
  /** Differentiate the outputs with respect to this input (float inputs only). */
  grad?: boolean;
}

/** Forward output and input gradients read back to the host. */
export interface CaseResult {
  value: Float32Array;
  grads: Float32Array[];
}

function makeInput(input: CaseInput): tf.Tensor {
  const size = input.shape.reduce((a, b) => a * b, 1);
  const data = input.data ?? seededFloats(size, input.seed ?? 1, input.scale ?? 1);
  return tf.tensor(data, input.shape, input.dtype ?? 'float32');
}

/**
 * Runs `fn` on `backend`: the forward value, and (for inputs flagged `grad`) gradients of
 * sum(y ⊙ r) for a fixed random cotangent r, so every output element's gradient matters.
 */
export async function runCase(
  backend: 'cpu' | 'wasm',
  inputs: CaseInput[],
  fn: (xs: tf.Tensor[]) => tf.Tensor,
): Promise<CaseResult> {
  await tf.setBackend(backend);
  const xs = inputs.map(makeInput);
  const gradIndex = inputs.flatMap((input, i) => (input.grad ? [i] : []));
  try {
    const value = tf.tidy(() => fn(xs));
    const out = new Float32Array(await value.data());
    const cotangent = tf.tensor(seededFloats(value.size, 777), value.shape);
    value.dispose();
    let grads: Float32Array[] = [];
    if (gradIndex.length > 0) {
      const gradTensors = tf.tidy(() =>
        tf.grads((...vars: tf.Tensor[]) => {
          const all = xs.map((x, i) => (gradIndex.includes(i) ? vars[gradIndex.indexOf(i)]! : x));
          return tf.sum(tf.mul(fn(all), cotangent));
        })(gradIndex.map((i) => xs[i]!)),
      );
      grads = await Promise.all(gradTensors.map(async (g) => new Float32Array(await g.data())));
      tf.dispose(gradTensors);
    }
    cotangent.dispose();
    return { value: out, grads };
  } finally {
    tf.dispose(xs);
  }
}

/** Activates wasm with deepline's kernels (so `tf.setBackend` can switch back and forth). */
export async function prepareBackends(): Promise<void> {
  await registerWasmKernels();
  await initBackend({ backend: 'wasm' });
  tf.setBackend('cpu');
  await tf.ready();
}
