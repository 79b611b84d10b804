import { initBackend, tf } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { type AttentionImpl, DeepseekModel, presetConfig } from '@deepline/layers';
import { type BenchRow, defineBenchSuite, timeMedian } from '../benchSuite.js';

// @deepline/layers inference speed on tfjs-wasm (+ deepline kernels), DeepSeek-style
// `small`-shaped model with fewer layers. No JS implementation of DeepSeek-V3 exists to
// compare against, so the peers are the alternatives inside the same run: the naive MLA
// path (full per-head k/v cache) for decoding, and the tfjs-cpu backend for prefill.

const config = presetConfig('small', { nLayers: 2, nDenseLayers: 1, vocabSize: 4096, nMtpModules: 0, maxSeqLen: 512, originalSeqLen: 512 });

function decodeStepMs(model: DeepseekModel, attention: AttentionImpl, context: number, steps: number): Promise<number> {
  const cache = model.createCache({ batchSize: 1, attention });
  const prompt = tf.tensor2d(Array.from({ length: context }, (_, i) => (i * 7) % config.vocabSize), [1, context], 'int32');
  model.forward(prompt, { cache }).logits.dispose();
  const token = tf.tensor2d([[3]], [1, 1], 'int32');
  const ms = timeMedian(
    () => {
      // Rewind to the same position each time so every step attends over `context` keys.
      model.forward(token, { cache, startPos: context }).logits.dispose();
    },
    { runs: steps, warmup: 2 },
  );
  return ms.finally(() => {
    tf.dispose([prompt, token]);
    cache.dispose();
  });
}

async function prefillTokensPerSecond(model: DeepseekModel, length: number, runs: number): Promise<number> {
  const tokens = tf.tensor2d(Array.from({ length }, (_, i) => (i * 13) % config.vocabSize), [1, length], 'int32');
  const ms = await timeMedian(() => model.forward(tokens).logits.dispose(), { runs, warmup: 1 });
  tokens.dispose();
  return (length / ms) * 1000;
}

export default defineBenchSuite({
  name: 'layers',
  description: 'DeepSeek-V3 layers: absorbed vs naive MLA decode step, wasm vs cpu prefill',
  run: async ({ quick, log }) => {
    await initBackend({ backend: 'wasm' });
    await registerWasmKernels();
    const model = DeepseekModel.create(config, { seed: 1 });
    const context = quick ? 64 : 256;
    const steps = quick ? 5 : 15;
    const absorb = await decodeStepMs(model, 'absorb', context, steps);
    const naive = await decodeStepMs(model, 'naive', context, steps);
    log(`decode step at context ${context}: absorbed ${absorb.toFixed(2)} ms, naive ${naive.toFixed(2)} ms`);
    const length = quick ? 64 : 128;
    const wasm = await prefillTokensPerSecond(model, length, quick ? 2 : 4);
    await initBackend({ backend: 'cpu' });
    const cpu = await prefillTokensPerSecond(model, length, quick ? 1 : 2);
    log(`prefill ${length} tokens: wasm ${wasm.toFixed(0)} tokens/s, cpu ${cpu.toFixed(0)} tokens/s`);
    model.dispose();
    const rows: BenchRow[] = [
      {
        name: `MLA decode step, context ${context} (absorbed latent cache)`,
        unit: 'ms',
        ours: absorb,
        peer: naive,
        peerName: 'naive MLA (per-head k/v cache), same model',
        higherIsBetter: false,
      },
      { name: `prefill ${length} tokens on tfjs-wasm`, unit: 'tokens/s', ours: wasm, peer: cpu, peerName: 'tfjs-cpu backend', higherIsBetter: true },
    ];
    return rows;
  },
});
