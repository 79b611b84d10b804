import { tf } from '../tf.js';

/** Context handed to a pack's setup, e.g. to instantiate a WebAssembly module on the backend heap. */
export interface KernelPackSetupContext {
  backendName: string;
  backend: tf.KernelBackend;
}

/**
 * A set of kernels (and optional gradients) for one tfjs backend. Kernel packages
 * (kernels/*) build these and register them here; core applies them when their backend
 * becomes active. Core never imports a kernel package.
 */
export interface KernelPack {
  /** Unique name, e.g. '@deepline/kernels-wasm'. */
  name: string;
  /** tfjs backend name: 'wasm' | 'cpu' | 'webgpu' | 'tensorflow'. */
  backend: string;
  /** Kernels to add or to override (a built-in of the same name is replaced, and restorable). */
  kernels: tf.KernelConfig[];
  /** Gradients to add (only where none is registered yet; tfjs gradients are global). */
  gradients?: tf.GradConfig[];
  /** Runs once per backend instance before the kernels are registered. */
  setup?: (context: KernelPackSetupContext) => void | Promise<void>;
}

interface AppliedPack {
  pack: KernelPack;
  originals: Map<string, tf.KernelConfig | undefined>;
}

const packs = new Map<string, KernelPack>();
const applied = new Map<string, AppliedPack>();
const originalKernels = new Map<string, tf.KernelConfig>();

/** Registers a pack; if its backend is active (and initialised) it is applied at once. */
export async function registerKernelPack(pack: KernelPack): Promise<void> {
  if (packs.has(pack.name)) await unregisterKernelPack(pack.name);
  packs.set(pack.name, pack);
  if (safeBackendName() === pack.backend) await applyPack(pack);
}

/** Removes a pack and restores the kernels it replaced (used by benchmarks: with vs without). */
export async function unregisterKernelPack(name: string): Promise<void> {
  const state = applied.get(name);
  packs.delete(name);
  if (!state) return;
  for (const [kernelName, original] of state.originals) {
    tf.unregisterKernel(kernelName, state.pack.backend);
    if (original) tf.registerKernel(original);
  }
  applied.delete(name);
}

/** Applies every registered pack for `backendName` (called by initBackend after setBackend). */
export async function applyKernelPacks(backendName: string): Promise<string[]> {
  const names: string[] = [];
  // Core's own fixes go first so kernel packages that override the same kernels win.
  const isCore = (p: KernelPack) => (p.name.startsWith('@deepline/core:') ? 0 : 1);
  for (const pack of [...packs.values()].sort((a, b) => isCore(a) - isCore(b))) {
    if (pack.backend !== backendName || applied.has(pack.name)) continue;
    await applyPack(pack);
    names.push(pack.name);
  }
  return names;
}

/** Names of packs currently applied. */
export function listKernelPacks(): { name: string; backend: string; applied: boolean; kernels: string[] }[] {
  return [...packs.values()].map((p) => ({
    name: p.name,
    backend: p.backend,
    applied: applied.has(p.name),
    kernels: p.kernels.map((k) => k.kernelName),
  }));
}

/**
 * The kernel tfjs had before any pack replaced it, so an override can delegate to the
 * stock implementation for shapes it does not handle better.
 */
export function originalKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return originalKernels.get(`${backendName}/${kernelName}`) ?? tf.getKernel(kernelName, backendName);
}

async function applyPack(pack: KernelPack): Promise<void> {
  await pack.setup?.({ backendName: pack.backend, backend: tf.backend() });
  const originals = new Map<string, tf.KernelConfig | undefined>();
  for (const kernel of pack.kernels) {
    const existing = tf.getKernel(kernel.kernelName, pack.backend);
    const key = `${pack.backend}/${kernel.kernelName}`;
    if (existing && !originalKernels.has(key)) originalKernels.set(key, existing);
    originals.set(kernel.kernelName, existing);
    if (existing) tf.unregisterKernel(kernel.kernelName, pack.backend);
    tf.registerKernel({ ...kernel, backendName: pack.backend });
  }
  for (const gradient of pack.gradients ?? []) {
    if (!tf.getGradient(gradient.kernelName)) tf.registerGradient(gradient);
  }
  applied.set(pack.name, { pack, originals });
}

function safeBackendName(): string | undefined {
  try {
    return tf.engine().backendName ?? undefined;
  } catch {
    return undefined;
  }
}
