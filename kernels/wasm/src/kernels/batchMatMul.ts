import { originalKernel, tf } from '@deepline/core';
import { gemmWorkspaceBytes } from '../wasm/gemmWat.js';
import { kernelInstance } from '../wasm/kernelModule.js';
import { type WasmBackend, heapOffset } from '../wasm/wasmBackend.js';

/** Byte strides (row, column) of the logical matrix over a stored row-major [*, cols] one. */
function strides(cols: number, transposed: boolean): [number, number] {
  return transposed ? [4, cols * 4] : [cols * 4, 4];
}

/** Index into a (possibly broadcast) batch for output batch `index`. */
function batchIndex(outDims: number[], dims: number[], index: number): number {
  let offset = 0;
  let stride = 1;
  let rest = index;
  for (let d = outDims.length - 1; d >= 0; d--) {
    const coordinate = rest % outDims[d]!;
    rest = Math.floor(rest / outDims[d]!);
    const size = dims[d - (outDims.length - dims.length)] ?? 1;
    if (size !== 1) offset += coordinate * stride;
    stride *= size;
  }
  return offset;
}

/**
 * BatchMatMul for every shape tfjs-wasm runs as a scalar loop (batched or transposed):
 * the blocked SIMD GEMM reads transposed operands through strides, so no transpose is
 * materialised, and broadcast batches reuse the same heap slices.
 */
export function batchMatMulKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    // Not a float GEMM: let the stock kernel give its own answer (or its own error).
    return originalKernel('BatchMatMul', 'wasm')!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [aRows, aCols] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [bRows, bCols] = [b.shape[rb - 2]!, b.shape[rb - 1]!];
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const n = transposeB ? bRows : bCols;
  const kB = transposeB ? bCols : bRows;
  if (k !== kB) {
    throw new Error(`matMul: inner dimensions ${k} and ${kB} differ (a ${a.shape}, b ${b.shape}, transposeA ${transposeA}, transposeB ${transposeB})`);
  }
  const aDims = a.shape.slice(0, -2);
  const bDims = b.shape.slice(0, -2);
  const outDims = tf.broadcast_util.assertAndGetBroadcastShape(aDims, bDims);
  const batches = outDims.reduce((x, y) => x * y, 1);
  const instance = kernelInstance(backend);
  const work = instance.workspace(gemmWorkspaceBytes(n));
  const out = backend.makeOutput([...outDims, m, n], 'float32');
  const aBase = heapOffset(backend, a);
  const bBase = heapOffset(backend, b);
  const cBase = heapOffset(backend, out);
  const [rsa, csa] = strides(aCols, transposeA);
  const [rsb, csb] = strides(bCols, transposeB);
  const gemm = instance.exports.gemm;
  for (let i = 0; i < batches; i++) {
    const ai = batchIndex(outDims, aDims, i);
    const bi = batchIndex(outDims, bDims, i);
    gemm(aBase + ai * m * k * 4, rsa, csa, bBase + bi * k * n * 4, rsb, csb, cBase + i * m * n * 4, n * 4, m, n, k, work);
  }
  return out;
}
