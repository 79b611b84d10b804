import type { tf } from '@deepline/core';
import { gemmWorkspaceBytes } from '../wasm/gemmWat.js';
import { GEMV_INT4_BLOCK, GEMV_INT8_BLOCK, GEMV_MAX_ROWS, gemvWorkspaceBytes } from '../wasm/gemvWat.js';
import { type KernelArgs, sizeOf, wasmContext } from './kernelUtils.js';

type Info = tf.TensorInfo;

/**
 * Names of the quantized matmul kernels. The `*MatMul` kernels take the SIMD GEMV for up to
 * {@link GEMV_MAX_ROWS} rows and the dequantizing GEMM beyond; the `*Gemv` kernels (same
 * inputs) always stream the packed bytes, {@link GEMV_MAX_ROWS} rows per pass — their
 * presence tells callers such as the quantizer that the packed-byte GEMV is available.
 */
export const QUANT_KERNEL = {
  int8: 'DeeplineInt8MatMul',
  int4: 'DeeplineInt4MatMul',
  int8Gemv: 'DeeplineInt8Gemv',
  int4Gemv: 'DeeplineInt4Gemv',
} as const;

/** y[..., out] = x[..., in] · (q · scale)ᵀ with int8 q bytes [out, in] held in an int32 tensor. */
function int8MatMul(args: KernelArgs, gemvRows: number): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, qweight, scales } = args.inputs as { x: Info; qweight: Info; scales: Info };
  const k = x.shape[x.shape.length - 1]!;
  const n = scales.shape[0]!;
  const m = sizeOf(x.shape) / k;
  if (m <= gemvRows && k % GEMV_INT8_BLOCK === 0) {
    const y = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
    const work = instance.workspace(gemvWorkspaceBytes({ m: Math.min(m, GEMV_MAX_ROWS), k }));
    for (let t = 0; t < m; t += GEMV_MAX_ROWS) {
      const rows = Math.min(GEMV_MAX_ROWS, m - t);
      instance.exports.gemvInt8(ptr(x) + t * k * 4, ptr(qweight), ptr(scales), ptr(y) + t * n * 4, rows, n, k, work);
    }
    return y;
  }
  const work = instance.workspace(gemmWorkspaceBytes(n));
  const y = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
  instance.exports.gemmInt8(ptr(x), k * 4, 4, ptr(qweight), ptr(scales), ptr(y), n * 4, m, n, k, work);
  return y;
}

/** Same with int4 nibbles (low first) [out, in/2] and group-wise scales/zeros [out, in/group]. */
function int4MatMul(args: KernelArgs, gemvRows: number): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, packed, scales, zeros } = args.inputs as { x: Info; packed: Info; scales: Info; zeros: Info };
  const groupSize = (args.attrs as { groupSize: number }).groupSize;
  const k = x.shape[x.shape.length - 1]!;
  const n = scales.shape[0]!;
  const m = sizeOf(x.shape) / k;
  if (m <= gemvRows && groupSize % GEMV_INT4_BLOCK === 0) {
    const y = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
    const work = instance.workspace(gemvWorkspaceBytes({ m: Math.min(m, GEMV_MAX_ROWS), k, groups: k / groupSize }));
    for (let t = 0; t < m; t += GEMV_MAX_ROWS) {
      const rows = Math.min(GEMV_MAX_ROWS, m - t);
      instance.exports.gemvInt4(ptr(x) + t * k * 4, ptr(packed), ptr(scales), ptr(zeros), groupSize, ptr(y) + t * n * 4, rows, n, k, work);
    }
    return y;
  }
  const work = instance.workspace(gemmWorkspaceBytes(n));
  const y = backend.makeOutput([...x.shape.slice(0, -1), n], 'float32');
  instance.exports.gemmInt4(ptr(x), k * 4, 4, ptr(packed), ptr(scales), ptr(zeros), groupSize, ptr(y), n * 4, m, n, k, work);
  return y;
}

/** The quantized matmul kernels for tfjs-wasm. */
export function quantKernelConfigs(): tf.KernelConfig[] {
  const config = (kernelName: string, run: (args: KernelArgs, gemvRows: number) => Info, gemvRows: number): tf.KernelConfig => ({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs) => run(args, gemvRows)) as unknown as tf.KernelFunc,
  });
  return [
    config(QUANT_KERNEL.int8, int8MatMul, GEMV_MAX_ROWS),
    config(QUANT_KERNEL.int4, int4MatMul, GEMV_MAX_ROWS),
    config(QUANT_KERNEL.int8Gemv, int8MatMul, Number.POSITIVE_INFINITY),
    config(QUANT_KERNEL.int4Gemv, int4MatMul, Number.POSITIVE_INFINITY),
  ];
}
