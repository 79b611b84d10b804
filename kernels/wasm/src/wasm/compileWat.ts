import { kernelModuleWat } from './moduleWat.js';

/**
 * Compiles the kernel module's WAT to wasm bytes with wabt (a devDependency: only the
 * build script and the reproducibility test call this; the package ships the bytes).
 */
export async function compileKernelModule(): Promise<Uint8Array> {
  const { default: initWabt } = await import('wabt');
  const wabt = await initWabt();
  const module = wabt.parseWat('deepline-kernels.wat', kernelModuleWat(), { simd: true, bulk_memory: true });
  try {
    module.validate();
    return module.toBinary({ canonicalize_lebs: true, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
