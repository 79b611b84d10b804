import { tf } from '@deepline/core';

/** Everything a strided GEMM needs to compute one BatchMatMul (element units). */
export interface MatMulGeometry {
  m: number;
  n: number;
  k: number;
  /** Row and column strides of the logical A [m, k] over its stored row-major matrix. */
  rsa: number;
  csa: number;
  rsb: number;
  csb: number;
  /** Output shape: broadcast batch dims, then [m, n]. */
  outShape: number[];
  batches: number;
  /** Per output batch entry: element offsets of its A and B matrices (interleaved), or undefined when batches = 1. */
  offsets?: Int32Array;
}

/** Offset (in matrices) of the operand batch entry that output batch entry `index` reads, under broadcasting. */
function operandBatch(outDims: readonly number[], dims: readonly number[], index: number): number {
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
 * Geometry of `matMul(a, b, transposeA, transposeB)` on row-major tensors: a transposed
 * operand is read through swapped strides (never materialised), and batch dims broadcast
 * numpy-style, each output entry pointing at the A and B entries it reads.
 */
export function matMulGeometry(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulGeometry {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new Error(`matMul needs rank >= 2 operands, got a [${aShape}] and b [${bShape}]`);
  }
  const [aRows, aCols] = [aShape[aShape.length - 2]!, aShape[aShape.length - 1]!];
  const [bRows, bCols] = [bShape[bShape.length - 2]!, bShape[bShape.length - 1]!];
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const n = transposeB ? bRows : bCols;
  const kB = transposeB ? bCols : bRows;
  if (k !== kB) {
    throw new Error(
      `matMul: inner dimensions ${k} and ${kB} differ (a [${aShape}], b [${bShape}], transposeA ${transposeA}, transposeB ${transposeB})`,
    );
  }
  const aDims = aShape.slice(0, -2);
  const bDims = bShape.slice(0, -2);
  const outDims = tf.broadcast_util.assertAndGetBroadcastShape(aDims, bDims);
  const batches = outDims.reduce((x, y) => x * y, 1);
  let offsets: Int32Array | undefined;
  if (batches > 1) {
    offsets = new Int32Array(2 * batches);
    for (let i = 0; i < batches; i++) {
      offsets[2 * i] = operandBatch(outDims, aDims, i) * m * k;
      offsets[2 * i + 1] = operandBatch(outDims, bDims, i) * k * n;
    }
  }
  return {
    m,
    n,
    k,
    rsa: transposeA ? 1 : aCols,
    csa: transposeA ? aCols : 1,
    rsb: transposeB ? 1 : bCols,
    csb: transposeB ? bCols : 1,
    outShape: [...outDims, m, n],
    batches,
    offsets,
  };
}
