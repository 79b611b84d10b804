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
 * The `*Dequantize` kernels (same weight inputs, no x) return W [out, in] float32; int4 needs
 * groups of a multiple of 32 weights, int8 `in % 16 == 0`.
 */
export const QUANT_KERNEL = {
  int8: 'DeeplineInt8MatMul',
  int4: 'DeeplineInt4MatMul',
  int8Gemv: 'DeeplineInt8Gemv',
  int4Gemv: 'DeeplineInt4Gemv',
  int8Dequantize: 'DeeplineInt8Dequantize',
  int4Dequantize: 'DeeplineInt4Dequantize',
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

/** W [out, in] = q · scales (int8, in % 16 == 0). */
function int8Dequantize(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { qweight, scales } = args.inputs as { qweight: Info; scales: Info };
  const [n, k] = [qweight.shape[0]!, qweight.shape[1]! * 4];
  if (k % GEMV_INT8_BLOCK !== 0) throw new Error(`${QUANT_KERNEL.int8Dequantize}: in (${k}) must be a multiple of ${GEMV_INT8_BLOCK}`);
  const out = backend.makeOutput([n, k], 'float32');
  if (n > 0 && k > 0) instance.exports.dequantInt8(ptr(qweight), ptr(scales), ptr(out), n, k);
  return out;
}

/** W [out, in] = (nibble − zero) · scale per group (group % 32 == 0). */
function int4Dequantize(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { packed, scales, zeros } = args.inputs as { packed: Info; scales: Info; zeros: Info };
  const groupSize = (args.attrs as { groupSize: number }).groupSize;
  const [n, k] = [packed.shape[0]!, packed.shape[1]! * 8];
  if (groupSize % GEMV_INT4_BLOCK !== 0 || k % groupSize !== 0) {
    throw new Error(`${QUANT_KERNEL.int4Dequantize}: groupSize (${groupSize}) must be a multiple of ${GEMV_INT4_BLOCK} dividing in (${k})`);
  }
  const out = backend.makeOutput([n, k], 'float32');
  if (n > 0 && k > 0) instance.exports.dequantInt4(ptr(packed), ptr(scales), ptr(zeros), groupSize, ptr(out), n, k);
  return out;
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
    { kernelName: QUANT_KERNEL.int8Dequantize, backendName: 'wasm', kernelFunc: int8Dequantize as unknown as tf.KernelFunc },
    { kernelName: QUANT_KERNEL.int4Dequantize, backendName: 'wasm', kernelFunc: int4Dequantize as unknown as tf.KernelFunc },
  ];
}
