export { tf } from './tf.js';
export { DeeplineError, CoreError, type CoreErrorContext } from './errors.js';
export { SeededRandom, type RandomState } from './random.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.js';
export { ProgressReporter, formatDuration, type ProgressOptions, type ProgressUpdate } from './progress.js';
export { loadYamlConfig, parseYamlConfig, validateConfig, type LoadConfigOptions, type ParseConfigOptions } from './config.js';
export {
  initBackend,
  currentBackend,
  parseBackendChoice,
  type InitBackendOptions,
  type BackendReport,
} from './backend/initBackend.js';
export {
  probeBackend,
  BACKEND_ORDER,
  INSTALL_HINT,
  TFJS_BACKEND_NAME,
  type BackendChoice,
  type BackendName,
  type GpuAdapterInfo,
  type ProbeResult,
} from './backend/backendProbes.js';
export { diagnose, type DoctorReport, type DiagnoseOptions } from './backend/diagnose.js';
export {
  registerKernelPack,
  unregisterKernelPack,
  applyKernelPacks,
  listKernelPacks,
  originalKernel,
  type KernelPack,
  type KernelPackSetupContext,
} from './kernels/kernelRegistry.js';
export { topKGradient, wasmUnsortedSegmentSum, wasmOneHot } from './kernels/builtinFixes.js';
export {
  registerTextKernels,
  unregisterTextKernels,
  textKernelProvider,
  type TextKernelContracts,
  type TextKernelProvider,
} from './kernels/textKernels.js';
export {
  registerFusedOp,
  unregisterFusedOp,
  fusedOp,
  listFusedOps,
  type FusedOpName,
  type FusedOpContracts,
  type FusedRmsNormInputs,
  type FusedSiluMulInputs,
  type FusedAttentionInputs,
  type FusedCrossEntropyInputs,
} from './kernels/fusedOps.js';
export {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
  toFloat32,
  toInt32,
  type RawTensor,
  type SafetensorsContents,
  type TensorToWrite,
} from './safetensors/safetensors.js';
export {
  readSafetensorsDir,
  writeSafetensorsDir,
  SAFETENSORS_INDEX,
  SAFETENSORS_SINGLE,
  type WriteSafetensorsDirOptions,
} from './safetensors/sharded.js';
export {
  DTYPE_BYTES,
  type SafetensorsDtype,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  bfloat16BitsToFloat32,
  float32ToBfloat16Bits,
} from './safetensors/dtypes.js';
export { type Tracker, noopTracker } from './tracker.js';
