import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON, openblasDir } from './measureTorch.js';

const SCRIPT = fileURLToPath(new URL('../../torch/gemm_bench.py', import.meta.url));

/** One GEMM shape: C[m, n] = op(A)·op(B) with inner size k. */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * GFLOP/s of torch.mm on Debian's OpenBLAS (pthread build) for each shape, with
 * `blasThreads` OpenBLAS threads (torch itself on one intra-op thread: mm goes straight to BLAS).
 */
export function torchGemmGflops(
  shapes: GemmShape[],
  options: { blasThreads: number },
): { gflops: number[]; blas: string } {
  const dir = openblasDir();
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    OPENBLAS_NUM_THREADS: String(options.blasThreads),
  };
  const json = JSON.stringify(
    shapes.map((s) => [s.m, s.n, s.k, s.transposeA ? 1 : 0, s.transposeB ? 1 : 0]),
  );
  const stdout = execFileSync(PYTHON, [SCRIPT, '--shapes', json, '--threads', '1'], {
    env,
    encoding: 'utf8',
    timeout: 600_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as { gflops: number[]; blas: string };
}
