import { originalKernel, type tf } from '@deepline/core';
import { gemmWorkspaceBytes } from '../wasm/gemmWat.js';
import { kernelInstance } from '../wasm/kernelModule.js';
import { matMulGeometry } from './matMulGeometry.js';
import { type WasmBackend, heapOffset } from '../wasm/wasmBackend.js';

/**
 * BatchMatMul for every shape tfjs-wasm runs as a scalar loop (batched or transposed):
 * the blocked SIMD GEMM reads transposed operands through strides, so no transpose is
 * materialised, and broadcast batches reuse the same heap slices.
 */
export function batchMatMulKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    // Not a float GEMM: let the stock kernel give its own answer (or its own error).
    return originalKernel('BatchMatMul', 'wasm')!.kernelFunc(
      args as unknown as Parameters<tf.KernelFunc>[0],
    ) as tf.TensorInfo;
  }
  const { m, n, k, rsa, csa, rsb, csb, outShape, batches, offsets } = matMulGeometry(
    a.shape,
    b.shape,
    transposeA,
    transposeB,
  );
  const instance = kernelInstance(backend);
  const work = instance.workspace(gemmWorkspaceBytes(n));
  const out = backend.makeOutput(outShape, 'float32');
  const aBase = heapOffset(backend, a);
  const bBase = heapOffset(backend, b);
  const cBase = heapOffset(backend, out);
  const gemm = instance.exports.gemm;
  for (let i = 0; i < batches; i++) {
    const aOffset = offsets ? offsets[2 * i]! : 0;
    const bOffset = offsets ? offsets[2 * i + 1]! : 0;
    gemm(
      aBase + aOffset * 4,
      rsa * 4,
      csa * 4,
      bBase + bOffset * 4,
      rsb * 4,
      csb * 4,
      cBase + i * m * n * 4,
      n * 4,
      m,
      n,
      k,
      work,
    );
  }
  return out;
}
