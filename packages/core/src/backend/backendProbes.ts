import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tf } from '../tf.js';

export type BackendName = 'node-gpu' | 'node' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

export const BACKEND_ORDER: readonly BackendName[] = ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'];

/** tfjs's own name for each deepline backend. */
export const TFJS_BACKEND_NAME: Record<BackendName, string> = {
  'node-gpu': 'tensorflow',
  node: 'tensorflow',
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** How to get each backend when it is missing. */
export const INSTALL_HINT: Record<BackendName, string> = {
  'node-gpu':
    "needs an NVIDIA GPU with CUDA 11.2 + cuDNN 8.1 (libcudart.so.11.0, libcudnn.so.8); set allowBuilds '@tensorflow/tfjs-node-gpu': true in pnpm-workspace.yaml and reinstall where Google's libtensorflow download is reachable",
  node: "set allowBuilds '@tensorflow/tfjs-node': true in pnpm-workspace.yaml and reinstall where Google's libtensorflow download is reachable",
  webgpu: "needs a GPU with a Vulkan driver (and libvulkan1) plus the optional 'webgpu' and '@tensorflow/tfjs-backend-webgpu' packages",
  wasm: "install '@tensorflow/tfjs-backend-wasm'",
  cpu: "install '@tensorflow/tfjs-backend-cpu'",
};

export interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/** Outcome of checking one backend. `activate` makes it the current tfjs backend. */
export interface ProbeResult {
  name: BackendName;
  available: boolean;
  /** Why not, when unavailable (one line). */
  reason?: string;
  adapter?: GpuAdapterInfo;
  activate?: () => Promise<void>;
}

const require = createRequire(import.meta.url);

function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.trim();
}

async function setTfjsBackend(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

function probeTensorflowAddon(name: 'node-gpu' | 'node'): ProbeResult {
  const pkg = name === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const dir = packageDir(pkg);
  if (!dir) return { name, available: false, reason: `${pkg} is not installed (optional dependency absent)` };
  const libDir = join(dir, 'lib');
  const built = existsSync(libDir) && readdirSync(libDir).some((d) => existsSync(join(libDir, d, 'tfjs_binding.node')));
  if (!built) {
    return {
      name,
      available: false,
      reason: `${pkg} native addon not built (its install script downloads libtensorflow from Google's CDN and was skipped or failed)`,
    };
  }
  if (name === 'node-gpu' && !cudaRuntimePresent()) {
    return { name, available: false, reason: 'CUDA 11.2 runtime (libcudart.so.11.0) not found; tfjs-node-gpu would fall back to CPU' };
  }
  return {
    name,
    available: true,
    activate: async () => {
      require(pkg);
      await setTfjsBackend('tensorflow');
    },
  };
}

function libraryDirs(): string[] {
  const arch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [...(process.env.LD_LIBRARY_PATH ?? '').split(':'), `/usr/lib/${arch}`, `/lib/${arch}`, '/usr/lib64', '/usr/lib', '/usr/local/lib'];
}

// Dawn prints a warning to stderr when it cannot dlopen the Vulkan loader; checking first
// keeps `auto` quiet on machines without one and gives a clearer reason.
function vulkanLoaderPresent(): boolean {
  return libraryDirs().some((d) => d && existsSync(join(d, 'libvulkan.so.1')));
}

function cudaRuntimePresent(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':'), '/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu'];
  return dirs.some((d) => d && existsSync(join(d, 'libcudart.so.11.0')));
}

async function probeWebgpu(): Promise<ProbeResult> {
  const name = 'webgpu' as const;
  if (!packageDir('webgpu')) return { name, available: false, reason: "the optional 'webgpu' (Dawn) package is not installed" };
  if (!packageDir('@tensorflow/tfjs-backend-webgpu')) {
    return { name, available: false, reason: '@tensorflow/tfjs-backend-webgpu is not installed' };
  }
  if (process.platform === 'linux' && !vulkanLoaderPresent()) {
    return { name, available: false, reason: 'no Vulkan loader (libvulkan.so.1) found, so Dawn cannot reach a GPU' };
  }
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = require('webgpu');
  } catch (error) {
    return { name, available: false, reason: `cannot load Dawn: ${firstLine(error)}` };
  }
  let adapter: GPUAdapter | null;
  const gpu = dawn.create([]);
  try {
    adapter = await withTimeout(gpu.requestAdapter(), 10_000, 'requestAdapter timed out');
  } catch (error) {
    return { name, available: false, reason: `no WebGPU adapter: ${firstLine(error)}` };
  }
  if (!adapter) {
    return { name, available: false, reason: 'no WebGPU adapter (Dawn found no GPU with a usable Vulkan driver)' };
  }
  const info = (adapter as unknown as { info?: GpuAdapterInfo }).info ?? {};
  return {
    name,
    available: true,
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
    activate: async () => {
      Object.assign(globalThis, dawn.globals);
      // tfjs-backend-webgpu registers itself at import time only when navigator.gpu exists.
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      require('@tensorflow/tfjs-backend-webgpu');
      await setTfjsBackend('webgpu');
    },
  };
}

async function probeWasm(): Promise<ProbeResult> {
  const name = 'wasm' as const;
  try {
    require('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return { name, available: false, reason: `cannot load @tensorflow/tfjs-backend-wasm: ${firstLine(error)}` };
  }
  return { name, available: true, activate: () => setTfjsBackend('wasm') };
}

/** Checks one backend without activating it. */
export async function probeBackend(name: BackendName): Promise<ProbeResult> {
  switch (name) {
    case 'node-gpu':
    case 'node':
      return probeTensorflowAddon(name);
    case 'webgpu':
      return probeWebgpu();
    case 'wasm':
      return probeWasm();
    case 'cpu':
      return { name, available: true, activate: () => setTfjsBackend('cpu') };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
