import { kernelModuleWat } from './moduleWat.js';

/**
 * Compiles the kernel module's WAT to wasm bytes with wabt (a devDependency: only the
 * build script and the reproducibility test call this; the package ships the bytes).
 */
export async function compileKernelModule(options: { fma?: boolean } = {}): Promise<Uint8Array> {
  const { default: initWabt } = await import('wabt');
  const wabt = await initWabt();
  const features = { simd: true, bulk_memory: true, relaxed_simd: options.fma ?? false };
  const module = wabt.parseWat('deepline-kernels.wat', kernelModuleWat(options), features);
  try {
    module.validate();
    return module.toBinary({ canonicalize_lebs: true, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
