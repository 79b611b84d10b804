import { tf } from '../tf.js';
import type { KernelPack } from './kernelRegistry.js';

// Minimal view of tfjs-backend-wasm's BackendWasm that these kernels touch: tensors
// live in one heap, so JS can read inputs and write outputs in place.
interface WasmHeapBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * tfjs-core ships no TopK gradient. The values gradient is scattered back to the input
 * positions named by `indices` (indices themselves get no gradient).
 */
export const topKGradient: tf.GradConfig = {
  kernelName: 'TopK',
  inputsToSave: ['x'],
  outputsToSave: [false, true],
  gradFunc: (dy, saved) => {
    const [x, indices] = saved as [tf.Tensor, tf.Tensor];
    const dValues = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
    return {
      x: () =>
        tf.tidy(() => {
          const n = x.shape[x.shape.length - 1]!;
          const hot = tf.cast(tf.oneHot(tf.cast(indices, 'int32'), n), 'float32');
          return tf.sum(tf.mul(tf.expandDims(dValues, -1), hot), -2);
        }),
    };
  },
};

/** UnsortedSegmentSum on the wasm heap (tfjs-wasm lacks it; it is GatherV2's gradient). */
export const wasmUnsortedSegmentSum: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmHeapBackend;
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1);
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    const out = wasm.makeOutput(outShape, x.dtype);
    // Views are taken after makeOutput: malloc may grow (and detach) the heap.
    const values = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    const result = wasm.typedArrayFromHeap(out);
    result.fill(0);
    for (let r = 0; r < rows; r++) {
      const segment = ids[r]!;
      if (segment < 0 || segment >= numSegments) continue; // TF drops out-of-range ids
      const src = r * inner;
      const dst = segment * inner;
      for (let i = 0; i < inner; i++) result[dst + i]! += values[src + i]!;
    }
    return out;
  },
};

/** OneHot on wasm that honours `dtype` (the stock kernel writes int bits into float outputs). */
export const wasmOneHot: tf.KernelConfig = {
  kernelName: 'OneHot',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmHeapBackend;
    const { indices } = inputs as { indices: tf.TensorInfo };
    const { depth, onValue, offValue, dtype } = attrs as unknown as tf.OneHotAttrs;
    const out = wasm.makeOutput([...indices.shape, depth], dtype);
    const ids = wasm.typedArrayFromHeap(indices);
    const result = wasm.typedArrayFromHeap(out);
    result.fill(offValue);
    for (let i = 0; i < ids.length; i++) {
      const index = ids[i]!;
      if (index >= 0 && index < depth) result[i * depth + index] = onValue;
    }
    return out;
  },
};

/** Fixes core always applies on wasm. */
export const wasmFixesPack: KernelPack = {
  name: '@deepline/core:wasm-fixes',
  backend: 'wasm',
  kernels: [wasmUnsortedSegmentSum, wasmOneHot],
};

/**
 * tfjs-webgpu's Transpose shader fails to compile for int32 under Dawn and the result is
 * silently wrong. Route int32 through float32 (exact for |v| < 2^24: ids and masks).
 */
export function webgpuInt32TransposePack(): KernelPack {
  let stock: tf.KernelConfig | undefined;
  return {
    name: '@deepline/core:webgpu-fixes',
    backend: 'webgpu',
    setup: () => {
      stock = tf.getKernel('Transpose', 'webgpu');
    },
    kernels: [
      {
        kernelName: 'Transpose',
        backendName: 'webgpu',
        kernelFunc: (args) => {
          const x = (args.inputs as { x: tf.TensorInfo }).x;
          if (x.dtype !== 'int32' || !stock) return stock!.kernelFunc(args);
          // Call kernels directly (not engine.runKernel) so nothing lands on the gradient tape.
          const cast = tf.getKernel('Cast', 'webgpu')!;
          const run = (config: tf.KernelConfig, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) =>
            config.kernelFunc({ inputs, attrs, backend: args.backend }) as tf.TensorInfo;
          const asFloat = run(cast, { x }, { dtype: 'float32' });
          const moved = run(stock, { x: asFloat }, args.attrs as tf.NamedAttrMap);
          const back = run(cast, { x: moved }, { dtype: 'int32' });
          (args.backend as tf.KernelBackend).disposeData(asFloat.dataId);
          (args.backend as tf.KernelBackend).disposeData(moved.dataId);
          return back;
        },
      },
    ],
  };
}

/** Registers the gradients tfjs-core lacks (global: gradients are not per backend). */
export function registerMissingGradients(): void {
  if (!tf.getGradient('TopK')) tf.registerGradient(topKGradient);
}
