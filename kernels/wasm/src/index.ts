export {
  registerWasmKernels,
  unregisterWasmKernels,
  wasmKernelPack,
  WASM_KERNEL_PACK,
  WASM_FUSED_OPS,
  type RegisterWasmKernelsOptions,
} from './registerWasmKernels.js';
export { relaxedSimdSupported, usesFma, type RelaxedSimdMode } from './wasm/kernelModule.js';
export { KernelsError, type KernelsErrorContext } from './errors.js';
export { rmsNorm, rmsNormReference, type RmsNormOptions } from './ops/rmsNorm.js';
export { siluMul, siluMulReference, type SiluMulOptions } from './ops/siluMul.js';
export { applyRope, ropeReference, ropeTables, type RopeOptions } from './ops/rope.js';
export { attention, attentionReference, type AttentionOptions } from './ops/attention.js';
export { FusedAdamOptimizer, type FusedAdamOptions } from './ops/fusedAdam.js';
export { segmentSum, type SegmentSumOptions } from './ops/segmentSum.js';
export {
  crossEntropy,
  crossEntropyReference,
  type CrossEntropyOptions,
} from './ops/crossEntropy.js';
export {
  int8MatMul,
  int4MatMul,
  int8WeightTensor,
  int4WeightTensor,
  dequantizeInt8,
  dequantizeInt4,
  type Int8MatMulOptions,
  type Int4MatMulOptions,
} from './ops/quantMatMul.js';
export { matMulGeometry, type MatMulGeometry } from './kernels/matMulGeometry.js';
export { KERNEL as FUSED_KERNEL_NAMES } from './kernels/fusedKernels.js';
export { QUANT_KERNEL as QUANT_KERNEL_NAMES } from './kernels/quantKernels.js';
