import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TrainBenchConfig } from './benchConfig.js';
import type { TrainRun } from './measureTfjs.js';

// Debian's interpreter, where python3-torch installs (a pyenv python3 on PATH would not see it).
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SCRIPT = fileURLToPath(new URL('../../torch/train_bench.py', import.meta.url));

function torchImports(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** Debian's multi-threaded OpenBLAS directory (torch uses whatever libblas.so.3 it finds first). */
export function openblasDir(): string | undefined {
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const dir = `/usr/lib/${triplet}/openblas-pthread`;
  return existsSync(`${dir}/libblas.so.3`) ? dir : undefined;
}

/**
 * Makes sure Debian's python3-torch and OpenBLAS are installed (apt-get as root when they
 * are missing). Returns why torch cannot run, or undefined when it can.
 */
export function ensureTorch(log: (line: string) => void): string | undefined {
  if (torchImports() && openblasDir()) return undefined;
  if (process.getuid?.() !== 0) return 'python3-torch/libopenblas0-pthread missing and not root to apt-get them';
  log('installing python3-torch and libopenblas0-pthread with apt-get (first run only)');
  const install = spawnSync('apt-get', ['install', '-y', 'python3-torch', 'libopenblas0-pthread'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (install.status !== 0) spawnSync('apt-get', ['update'], { stdio: 'ignore' });
  if (install.status !== 0) spawnSync('apt-get', ['install', '-y', 'python3-torch', 'libopenblas0-pthread'], { stdio: 'ignore' });
  if (!torchImports()) return 'apt-get install python3-torch failed';
  if (!openblasDir()) return 'libopenblas0-pthread not found after install';
  return undefined;
}

/**
 * Trains the torch twin of the bench model on the CPU: OpenBLAS (pthread build, one BLAS
 * thread, so torch's 2 intra-op threads do not oversubscribe the cores).
 */
export function trainTorch(cfg: TrainBenchConfig, options: { steps: number; warmup: number; threads: number }): TrainRun & { parameters: number } {
  const dir = openblasDir();
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    OPENBLAS_NUM_THREADS: '1',
  };
  const args = [SCRIPT, '--config', JSON.stringify(cfg), '--steps', String(options.steps), '--warmup', String(options.warmup), '--threads', String(options.threads)];
  const stdout = execFileSync(PYTHON, args, { env, encoding: 'utf8', timeout: 600_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as TrainRun & { parameters: number };
}
