import { CoreError } from '../errors.js';
import { wasmFixesPack, webgpuInt32TransposePack, registerMissingGradients } from '../kernels/builtinFixes.js';
import { applyKernelPacks, registerKernelPack } from '../kernels/kernelRegistry.js';
import type { Logger } from '../logger.js';
import {
  BACKEND_ORDER,
  type BackendChoice,
  type BackendName,
  type GpuAdapterInfo,
  INSTALL_HINT,
  type ProbeResult,
  TFJS_BACKEND_NAME,
  probeBackend,
} from './backendProbes.js';

export interface InitBackendOptions {
  /** Which backend: 'auto' (default) tries node-gpu, node, webgpu, wasm, cpu in order. Env: DEEPLINE_BACKEND. */
  backend?: BackendChoice;
  /** Receives one line per skipped backend and the selection. */
  logger?: Pick<Logger, 'info'>;
}

export interface BackendReport {
  requested: BackendChoice;
  selected: BackendName;
  /** The name tfjs uses for it ('tensorflow' for node/node-gpu). */
  tfjsBackend: string;
  /** Each backend tried before the selected one, with why it was skipped. */
  skipped: { name: BackendName; reason: string }[];
  /** Kernel packs applied to the selected backend. */
  kernelPacks: string[];
  adapter?: GpuAdapterInfo;
}

let current: BackendReport | undefined;
let fixesRegistered = false;

const CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_ORDER];

/** Parses a backend name (from an option or DEEPLINE_BACKEND), with a clear error. */
export function parseBackendChoice(value: string | undefined, field = 'backend'): BackendChoice {
  if (value === undefined || value === '') return 'auto';
  if ((CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new CoreError(`${field} must be one of ${CHOICES.join(', ')}; got '${value}'`, {
    code: 'BACKEND_UNKNOWN',
    context: { field, backend: value },
  });
}

/**
 * Selects and activates the TensorFlow.js backend, registers gradients and kernel fixes,
 * and applies kernel packs registered for it. Idempotent for the same request.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const requested = options.backend ?? parseBackendChoice(process.env.DEEPLINE_BACKEND, 'DEEPLINE_BACKEND');
  if (current && (requested === current.requested || requested === current.selected)) return current;
  ensureFixes();
  const skipped: { name: BackendName; reason: string }[] = [];
  const candidates = requested === 'auto' ? BACKEND_ORDER : [requested];
  for (const name of candidates) {
    const probe = await probeBackend(name);
    const activated = probe.available ? await tryActivate(probe) : probe.reason;
    if (activated === undefined) {
      const tfjsBackend = TFJS_BACKEND_NAME[name];
      const kernelPacks = await applyKernelPacks(tfjsBackend);
      current = { requested, selected: name, tfjsBackend, skipped, kernelPacks, adapter: probe.adapter };
      for (const s of skipped) options.logger?.info(`backend ${s.name} skipped: ${s.reason}`);
      options.logger?.info(`backend ${name} selected`);
      return current;
    }
    if (requested !== 'auto') {
      throw new CoreError(`backend '${name}' is not available: ${activated}. To use it: ${INSTALL_HINT[name]}`, {
        code: 'BACKEND_UNAVAILABLE',
        context: { backend: name, reason: activated },
      });
    }
    skipped.push({ name, reason: activated ?? 'unavailable' });
  }
  throw new CoreError('no TensorFlow.js backend could be activated', { code: 'BACKEND_NONE', context: {} });
}

/** The report of the last initBackend call, if any. */
export function currentBackend(): BackendReport | undefined {
  return current;
}

async function tryActivate(probe: ProbeResult): Promise<string | undefined> {
  try {
    await probe.activate!();
    return undefined;
  } catch (error) {
    return `failed to start: ${String((error as Error)?.message ?? error).split('\n')[0]}`;
  }
}

function ensureFixes(): void {
  if (fixesRegistered) return;
  fixesRegistered = true;
  registerMissingGradients();
  void registerKernelPack(wasmFixesPack);
  void registerKernelPack(webgpuInt32TransposePack());
}
