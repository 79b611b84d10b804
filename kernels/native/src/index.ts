export {
  registerNativeKernels,
  unregisterNativeKernels,
  nativeKernelsAvailable,
  setNativeThreads,
  setNativeIsa,
  nativeKernelPack,
  NATIVE_KERNEL_PACK,
  type NativeIsa,
  type NativeKernelsStatus,
  type RegisterNativeKernelsOptions,
} from './registerNativeKernels.js';
export {
  registerNativeTextKernels,
  unregisterNativeTextKernels,
} from './registerNativeTextKernels.js';
export { nativeGemm, type NativeGemmOptions } from './nativeGemm.js';
export { matMulGeometry, type MatMulGeometry } from '@deepline/kernels-wasm';
export { NativeKernelsError, type NativeKernelsErrorContext } from './errors.js';
export { CONSTANT_MATMUL_KERNEL, nativeConstantPacks } from './nativeConstantMatMul.js';
