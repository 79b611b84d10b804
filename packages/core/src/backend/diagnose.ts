import { cpus } from 'node:os';
import { tf } from '../tf.js';
import { BACKEND_ORDER, type BackendName, type GpuAdapterInfo, probeBackend } from './backendProbes.js';
import { initBackend } from './initBackend.js';
import type { BackendChoice } from './backendProbes.js';
import { SeededRandom } from '../random.js';

export interface DoctorReport {
  node: string;
  platform: string;
  cores: number;
  backends: { name: BackendName; available: boolean; reason?: string }[];
  selected: BackendName;
  matmulCheck: { size: number; maxAbsError: number; passed: boolean; gflops: number };
  gpu?: GpuAdapterInfo;
}

export interface DiagnoseOptions {
  /** Backend to select (default from DEEPLINE_BACKEND, else auto). */
  backend?: BackendChoice;
  /** Matmul size for the check. Default 256. */
  size?: number;
}

/**
 * Environment report for `deepline doctor`: every backend's availability, the selected
 * one, and a matmul on it checked against a float64 reference computed in JS.
 */
export async function diagnose(options: DiagnoseOptions = {}): Promise<DoctorReport> {
  const backends: DoctorReport['backends'] = [];
  let gpu: GpuAdapterInfo | undefined;
  for (const name of BACKEND_ORDER) {
    const probe = await probeBackend(name);
    backends.push({ name, available: probe.available, reason: probe.reason });
    if (probe.adapter) gpu = probe.adapter;
  }
  const report = await initBackend({ backend: options.backend });
  const matmulCheck = await checkMatmul(options.size ?? 256);
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cores: cpus().length,
    backends,
    selected: report.selected,
    matmulCheck,
    gpu: report.adapter ?? gpu,
  };
}

async function checkMatmul(n: number): Promise<DoctorReport['matmulCheck']> {
  const rng = new SeededRandom(1234);
  const a = rng.normalArray(n * n);
  const b = rng.normalArray(n * n);
  const ta = tf.tensor2d(a, [n, n]);
  const tb = tf.tensor2d(b, [n, n]);
  // Warm-up (shader compilation on GPU backends), then one timed run.
  tf.matMul(ta, tb).dispose();
  const start = performance.now();
  const tc = tf.matMul(ta, tb);
  const c = (await tc.data()) as Float32Array;
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([ta, tb, tc]);
  let maxAbsError = 0;
  for (let i = 0; i < n; i += 7) {
    for (let j = 0; j < n; j += 5) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i * n + k]! * b[k * n + j]!;
      maxAbsError = Math.max(maxAbsError, Math.abs(sum - c[i * n + j]!));
    }
  }
  // float32 accumulation error grows ~sqrt(n); 1e-3 is loose enough for TF32-free GPUs.
  return { size: n, maxAbsError, passed: maxAbsError < 1e-3 * Math.sqrt(n), gflops: (2 * n ** 3) / seconds / 1e9 };
}
