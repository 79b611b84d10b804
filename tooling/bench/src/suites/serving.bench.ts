import { availableParallelism, loadavg } from 'node:os';
import { initBackend } from '@deepline/core';
import { registerNativeKernels } from '@deepline/kernels-native';
import { registerWasmKernels, usesFma } from '@deepline/kernels-wasm';
import { type DeepseekConfig, DeepseekModel, presetConfig } from '@deepline/layers';
import { DeepseekLanguageModel, ServingServer, type TextTokenizer } from '@deepline/serving';
import { Worker } from 'node:worker_threads';
import { type BenchRow, defineBenchSuite } from '../benchSuite.js';

// Random-weight DeepSeek-V3 models; each is served by both servers. "small-2L" (the `small`
// preset's widths, 2 layers) is compute-bound on a CPU at batch 32; "tiny" (the preset the
// pipeline trains and serves) is bound by per-step and per-token overhead.
const MODELS = [
  {
    label: 'small-2L',
    about: 'small preset widths (dim 256, 8 heads, MLA ranks 128, MoE 16 experts top-4 + shared), 2 layers (dense + MoE), vocab 4096',
    config: presetConfig('small', { nLayers: 2, nDenseLayers: 1, vocabSize: 4096, nMtpModules: 0, maxSeqLen: 512, originalSeqLen: 512 }),
  },
  {
    label: 'tiny',
    about: 'tiny preset (dim 64, 4 heads, MoE 8 experts top-2 + shared), 2 layers, vocab 4096',
    config: presetConfig('tiny', { vocabSize: 4096, nMtpModules: 0, maxSeqLen: 512, originalSeqLen: 512 }),
  },
];

// Byte tokens are enough here: prompts go in as token ids and tokenization is not measured.
const byteTokenizer: TextTokenizer = {
  encode: (text) => Array.from(Buffer.from(text, 'utf8')),
  decode: (ids) => ids.map((i) => String.fromCharCode(32 + (i % 90))).join(''),
  stopTokenIds: [],
  renderChat: (messages) => messages.map((m) => m.content).join('\n'),
};

/** What the client worker (servingClients.mjs) is given and answers. */
interface ClientLoad {
  url: string;
  clients: number;
  /** How long the clients keep sending requests (ms). */
  windowMs: number;
  promptLen: number;
  maxTokens: number;
  vocabSize: number;
}

interface ClientResult {
  tokens: number;
  seconds: number;
  ttfts: number[];
  requests: number;
}

interface RunStats {
  tokensPerSecond: number;
  ttftP50: number;
  ttftP99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs the clients in a worker thread (see servingClients.ts) and summarises. */
function load(load: ClientLoad): Promise<RunStats> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./servingClients.mjs', import.meta.url), { workerData: load });
    worker.once('message', (message: { ok: boolean; result?: ClientResult; error?: string }) => {
      void worker.terminate();
      if (!message.ok) return reject(new Error(message.error));
      const { tokens, seconds, ttfts } = message.result!;
      ttfts.sort((a, b) => a - b);
      resolve({ tokensPerSecond: tokens / seconds, ttftP50: percentile(ttfts, 50), ttftP99: percentile(ttfts, 99) });
    });
    worker.once('error', (error) => {
      void worker.terminate();
      reject(error);
    });
  });
}

export default defineBenchSuite({
  name: 'serving',
  description: 'HTTP serving: continuous batching vs a batch-size-1 server on the same model (streamed completions, wasm)',
  async run({ quick, log }) {
    // The kernels `deepline serve` uses: deepline's wasm kernels, and the native GEMM on every
    // core where its optional addon is built. Both servers run on them.
    await registerWasmKernels({ relaxedSimd: 'enable' });
    const native = await registerNativeKernels({ wasmKernels: false, threads: availableParallelism() });
    await initBackend({ backend: 'wasm' });
    log(
      `kernels: deepline wasm (FMA GEMM: ${usesFma()}); native GEMM: ${native.available ? `${native.isa}, ${native.threads} thread(s)` : `off (${native.reason})`}; ` +
        `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)}`,
    );
    const rows: BenchRow[] = [];
    // Quick runs measure the first (compute-bound) model only.
    for (const model of quick ? MODELS.slice(0, 1) : MODELS) rows.push(...(await benchModel({ ...model, quick, log })));
    return rows;
  },
});

async function benchModel(options: { label: string; about: string; config: DeepseekConfig; quick: boolean; log: (line: string) => void }): Promise<BenchRow[]> {
  const { label, about, config, quick, log } = options;
  log(`${label}: ${about}; random weights`);
  // Both servers share the model (they are measured one after the other), in the server's
  // thread as `deepline serve` runs it.
  const model = DeepseekModel.create(config, { seed: 3, initStd: 0.02 });
  const lm = new DeepseekLanguageModel(model);
  const served = { name: 'bench', model: lm, tokenizer: byteTokenizer };
  const maxTokens = quick ? 32 : 64;
  const promptLen = 16;
  const repeats = quick ? 1 : 3;
  const vocabSize = config.vocabSize;
  const servers = {
    batched: new ServingServer({ model: served, engine: { maxBatchSize: 64 } }),
    single: new ServingServer({ model: served, engine: { maxBatchSize: 1, maxQueueSize: 1024 } }),
  };
  const urls = { batched: await servers.batched.listen(), single: await servers.single.listen() };
  await Promise.all([servers.batched.whenReady(), servers.single.whenReady()]);
  // Warm-up (kernel compilation, JIT) at the batch shapes measured below.
  await load({ url: urls.batched, clients: 32, windowMs: 1000, promptLen, maxTokens, vocabSize });
  await load({ url: urls.single, clients: 1, windowMs: 500, promptLen, maxTokens, vocabSize });
  const windowMs = quick ? 3000 : 6000;
  log(
    `workload: streamed greedy completions, prompts of ${promptLen} and max_tokens ${maxTokens} on average (×0.5–1.5 per request); ` +
      `each client sends the next request when one ends; tokens counted over a ${windowMs / 1000} s window`,
  );
  const rows: BenchRow[] = [];
  try {
    for (const clients of [1, 8, 32]) {
      // Median of `repeats` runs each, alternating order: the shared machine is noisy.
      const runs = { batched: [] as RunStats[], single: [] as RunStats[] };
      for (let r = 0; r < repeats; r++) {
        for (const kind of r % 2 === 0 ? (['single', 'batched'] as const) : (['batched', 'single'] as const)) {
          runs[kind].push(await load({ url: urls[kind], clients, windowMs, promptLen, maxTokens, vocabSize }));
          await Promise.all([servers.batched.engine!.idle(), servers.single.engine!.idle()]); // cut-off requests leave
        }
      }
      const median = (list: RunStats[]) => [...list].sort((a, b) => a.tokensPerSecond - b.tokensPerSecond)[Math.floor(list.length / 2)]!;
      const ours = median(runs.batched);
      const peer = median(runs.single);
      log(
        `${label}, ${clients} clients: batched ${ours.tokensPerSecond.toFixed(1)} tok/s (TTFT p50 ${ours.ttftP50.toFixed(0)} ms, p99 ${ours.ttftP99.toFixed(0)} ms); ` +
          `batch-1 ${peer.tokensPerSecond.toFixed(1)} tok/s (TTFT p50 ${peer.ttftP50.toFixed(0)} ms, p99 ${peer.ttftP99.toFixed(0)} ms); ` +
          `runs ${runs.batched.map((r) => r.tokensPerSecond.toFixed(0)).join('/')} vs ${runs.single.map((r) => r.tokensPerSecond.toFixed(0)).join('/')}; load average ${loadavg()[0]!.toFixed(2)}`,
      );
      const peerName = 'same server, max batch 1';
      rows.push(
        { name: `${label}: throughput, ${clients} clients`, unit: 'tok/s', ours: ours.tokensPerSecond, peer: peer.tokensPerSecond, peerName, higherIsBetter: true, target: clients === 32 ? 8 : undefined },
        { name: `${label}: TTFT p50, ${clients} clients`, unit: 'ms', ours: ours.ttftP50, peer: peer.ttftP50, peerName, higherIsBetter: false },
        { name: `${label}: TTFT p99, ${clients} clients`, unit: 'ms', ours: ours.ttftP99, peer: peer.ttftP99, peerName, higherIsBetter: false },
      );
    }
  } finally {
    await Promise.all([servers.batched.close(), servers.single.close()]);
    lm.dispose();
    model.dispose();
  }
  return rows;
}
