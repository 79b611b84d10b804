import type { tf } from '@deepline/core';
import { gemmWorkspaceBytes } from '../wasm/gemmWat.js';
import { type KernelArgs, sizeOf, wasmContext } from './kernelUtils.js';

type Info = tf.TensorInfo;

/** Names of the dequantize-matmul kernels. */
export const QUANT_KERNEL = { int8: 'DeeplineInt8MatMul', int4: 'DeeplineInt4MatMul' } as const;

/** y[..., out] = x[..., in] · (q · scale)ᵀ with int8 q bytes [out, in] held in an int32 tensor. */
function int8MatMul(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, qweight, scales } = args.inputs as { x: Info; qweight: Info; scales: Info };
  const k = x.shape[x.shape.length - 1]!;
  const n = scales.shape[0]!;
  const m = sizeOf(x.shape) / k;
  const work = instance.workspace(gemmWorkspaceBytes(n));
  const y = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
  instance.exports.gemmInt8(ptr(x), k * 4, 4, ptr(qweight), ptr(scales), ptr(y), n * 4, m, n, k, work);
  return y;
}

/** Same with int4 nibbles (low first) [out, in/2] and group-wise scales/zeros [out, in/group]. */
function int4MatMul(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, packed, scales, zeros } = args.inputs as { x: Info; packed: Info; scales: Info; zeros: Info };
  const groupSize = (args.attrs as { groupSize: number }).groupSize;
  const k = x.shape[x.shape.length - 1]!;
  const n = scales.shape[0]!;
  const m = sizeOf(x.shape) / k;
  const work = instance.workspace(gemmWorkspaceBytes(n));
  const y = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
  instance.exports.gemmInt4(ptr(x), k * 4, 4, ptr(packed), ptr(scales), ptr(zeros), groupSize, ptr(y), n * 4, m, n, k, work);
  return y;
}

/** The dequantize-matmul kernels for tfjs-wasm. */
export function quantKernelConfigs(): tf.KernelConfig[] {
  return [
    { kernelName: QUANT_KERNEL.int8, backendName: 'wasm', kernelFunc: int8MatMul as unknown as tf.KernelFunc },
    { kernelName: QUANT_KERNEL.int4, backendName: 'wasm', kernelFunc: int4MatMul as unknown as tf.KernelFunc },
  ];
}
