import { availableParallelism, loadavg } from 'node:os';
import {
  nativeGemm,
  nativeKernelsAvailable,
  setNativeIsa,
  setNativeThreads,
} from '@deepline/kernels-native';
import { type BenchRow, defineBenchSuite } from '../benchSuite.js';
import { ensureTorch } from '../trainBench/measureTorch.js';
import { type GemmShape, torchGemmGflops } from '../trainBench/measureTorchGemm.js';

// GFLOP/s of deepline's native GEMM (the addon behind tfjs-wasm's BatchMatMul) against
// torch.mm on OpenBLAS, on the matmul shapes one training step of the train-throughput bench
// model runs (tokens 1024, d_model 128, MLP 384, vocab 512; T = transposed operand).

const SHAPES: GemmShape[] = [
  [1024, 384, 128, false, false],
  [1024, 128, 384, false, true],
  [128, 384, 1024, true, false],
  [1024, 512, 128, false, false],
  [1024, 128, 512, false, true],
  [128, 512, 1024, true, false],
  [1024, 128, 128, false, false],
  [128, 128, 1024, true, false],
  [512, 192, 128, false, false],
  [128, 192, 512, true, false],
  [1024, 4, 128, false, false],
  [1, 512, 128, false, true],
].map(([m, n, k, transposeA, transposeB]) => ({ m, n, k, transposeA, transposeB }) as GemmShape);

function label(s: GemmShape): string {
  return `${s.m}×${s.n}×${s.k} ${s.transposeA ? 'T' : 'N'}${s.transposeB ? 'T' : 'N'}`;
}

/** Best-of-5 GFLOP/s of the native GEMM on one shape, with ~budget flops per timing. */
function nativeGflops(s: GemmShape, budget: number): number {
  const a = new Float32Array(s.m * s.k).map(() => Math.random() - 0.5);
  const b = new Float32Array(s.k * s.n).map(() => Math.random() - 0.5);
  const out = new Float32Array(s.m * s.n);
  const flops = 2 * s.m * s.n * s.k;
  const reps = Math.max(3, Math.floor(budget / flops));
  const run = () =>
    nativeGemm({
      a,
      b,
      m: s.m,
      n: s.n,
      k: s.k,
      transposeA: s.transposeA,
      transposeB: s.transposeB,
      out,
    });
  for (let i = 0; i < 3; i++) run();
  let best = Number.POSITIVE_INFINITY;
  for (let t = 0; t < 5; t++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) run();
    best = Math.min(best, (performance.now() - start) / 1000 / reps);
  }
  return flops / best / 1e9;
}

export default defineBenchSuite({
  name: 'native-gemm',
  description:
    'native GEMM addon GFLOP/s vs torch.mm (OpenBLAS) on the training step’s shapes, 1 and all cores',
  run: async ({ quick, log }) => {
    const status = nativeKernelsAvailable();
    if (!status.available) {
      log(`native GEMM unavailable: ${status.reason}`);
      return [];
    }
    const budget = quick ? 1e8 : 4e8;
    const cores = availableParallelism();
    const missing = ensureTorch(log);
    if (missing) log(`PyTorch peer unavailable: ${missing}`);
    const torchOne = missing ? undefined : torchGemmGflops(SHAPES, { blasThreads: 1 });
    const torchAll =
      missing || cores < 2 ? undefined : torchGemmGflops(SHAPES, { blasThreads: cores });
    if (torchOne) log(`torch: ${torchOne.blas}`);
    log(
      `load average before the native runs: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const rows: BenchRow[] = [];
    const isas = status.supportedIsas!.filter((isa) => isa !== 'generic');
    const settings: { threads: number; peer?: { gflops: number[] } }[] = [
      { threads: 1, peer: torchOne },
    ];
    if (cores > 1) settings.push({ threads: cores, peer: torchAll });
    for (const { threads, peer } of settings) {
      setNativeThreads(threads);
      for (const isa of isas) {
        setNativeIsa(isa as 'avx512' | 'avx2');
        for (const [i, s] of SHAPES.entries()) {
          const ours = nativeGflops(s, budget);
          rows.push({
            name: `GEMM ${label(s)}, native ${isa}, ${threads} thread(s)`,
            unit: 'GFLOP/s',
            ours,
            higherIsBetter: true,
            ...(peer
              ? { peer: peer.gflops[i], peerName: `torch.mm OpenBLAS, ${threads} thread(s)` }
              : {}),
          });
        }
      }
    }
    setNativeIsa('auto');
    setNativeThreads(1);
    log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    return rows;
  },
});
