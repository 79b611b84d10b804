import { stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, readSafetensorsHeader, tf } from '@deepline/core';
import { registerWasmKernels } from '@deepline/kernels-wasm';
import { DeepseekModel, presetConfig } from '@deepline/layers';
import {
  exportGguf,
  greedyDecode,
  loadQuantizedModel,
  measurePeakMemory,
  perplexity,
  quantizeModel,
  saveQuantizedModel,
} from '@deepline/quantizer';
import { LlamaLogLevel, type Token, getLlama } from 'node-llama-cpp';
import { markovTokens, tinyTokenizerJson, trainModel } from '../../../../packages/quantizer/src/testing/fixtures.js';
import { type BenchRow, defineBenchSuite } from '../benchSuite.js';

// @deepline/quantizer on a DeepSeek-style MoE model trained here on a learnable synthetic
// corpus (a sparse Markov chain), tfjs-wasm with deepline's kernels. Peers measured in the
// same run: the fp32 model itself (perplexity, size, memory, decode speed) and llama.cpp
// (node-llama-cpp's prebuilt CPU build, 1 thread like tfjs-wasm) decoding our GGUF export.

const config = presetConfig('tiny', {
  vocabSize: 320,
  dim: 128,
  interDim: 256,
  moeInterDim: 64,
  nLayers: 3,
  nDenseLayers: 1,
  nHeads: 4,
  nRoutedExperts: 16,
  nActivatedExperts: 2,
  nExpertGroups: 4,
  nLimitedGroups: 2,
  qLoraRank: 64,
  kvLoraRank: 64,
  qkNopeHeadDim: 32,
  qkRopeHeadDim: 16,
  vHeadDim: 32,
  maxSeqLen: 256,
  originalSeqLen: 256,
  nMtpModules: 0,
});

async function dirBytes(dir: string): Promise<number> {
  return (await stat(join(dir, 'model.safetensors'))).size;
}

const DTYPE_BYTES: Record<string, number> = { I8: 1, U8: 1, F16: 2, F32: 4 };

/** Bytes on disk of the packed linear tensors (qweight + scales + zeros). */
async function packedDiskBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const [name, t] of await readSafetensorsHeader(join(dir, 'model.safetensors'))) {
    if (/\.(qweight|scales|zeros)$/.test(name) && !name.startsWith('model.embed_tokens')) bytes += t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]!;
  }
  return bytes;
}

interface Measured {
  ppl: number;
  /** Mean KL(fp32 ‖ model) of next-token distributions on held-out text. */
  kl: number;
  bytes: number;
  peakBytes: number;
  tokensPerSecond: number;
}

let reference: tf.Tensor | undefined;

function logProbs(model: DeepseekModel, tokens: number[]): tf.Tensor {
  return tf.tidy(() => tf.logSoftmax(model.forward(tf.tensor2d([tokens], [1, tokens.length], 'int32')).logits));
}

async function measure(model: DeepseekModel, dir: string, heldOut: number[], prompt: number[], newTokens: number): Promise<Measured> {
  const ppl = perplexity({ model, tokens: heldOut, window: 128 }).ppl;
  const window = heldOut.slice(0, 128);
  reference ??= logProbs(model, window);
  const ref = reference;
  const kl = tf.tidy(() => {
    const q = logProbs(model, window);
    return tf.mean(tf.sum(tf.mul(tf.exp(ref), tf.sub(ref, q)), -1)).dataSync()[0]!;
  });
  const step = tf.tensor2d([prompt.slice(0, 1)], [1, 1], 'int32');
  const peak = await measurePeakMemory(model, () => tf.tidy(() => model.forward(step).logits.dataSync()));
  step.dispose();
  greedyDecode({ model, prompt, maxNewTokens: 4 }); // warm-up
  const { decodeTokensPerSecond } = greedyDecode({ model, prompt, maxNewTokens: newTokens });
  return { ppl, kl, bytes: await dirBytes(dir), peakBytes: peak.peakBytes, tokensPerSecond: decodeTokensPerSecond };
}

export default defineBenchSuite({
  name: 'quantizer',
  description: 'int8 / int4 (RTN, GPTQ) quantization: perplexity, size, peak memory, decode tokens/s; llama.cpp on the GGUF export',
  async run({ quick, log }) {
    await initBackend({ backend: 'wasm' });
    await registerWasmKernels();
    const root = await mkdtemp(join(tmpdir(), 'bench-quantizer-'));
    try {
      const train = markovTokens({ vocabSize: config.vocabSize, count: 40000, seed: 11 });
      const heldOut = markovTokens({ vocabSize: config.vocabSize, count: quick ? 512 : 4096, seed: 99 });
      const calibration = Array.from({ length: 16 }, (_, i) => train.slice(i * 128, (i + 1) * 128));
      const prompt = heldOut.slice(0, 16);
      const newTokens = quick ? 16 : 48;
      const steps = quick ? 60 : 300;
      const fp32 = DeepseekModel.create(config, { seed: 3, initStd: 0.02 });
      const t0 = performance.now();
      const loss = trainModel({ model: fp32, tokens: train, steps, batch: 8, seqLen: 64, lr: 0.01 });
      log(`trained ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s, final loss ${loss.toFixed(3)}`);
      const fp32Dir = join(root, 'fp32');
      await fp32.save(fp32Dir);
      fp32.dispose();
      // Every model is measured the same way: loaded back from its directory.
      const reloaded = await loadQuantizedModel(fp32Dir);
      const base = await measure(reloaded, fp32Dir, heldOut, prompt, newTokens);
      reloaded.dispose();
      log(`fp32: ppl ${base.ppl.toFixed(4)}, ${base.bytes} B, peak ${base.peakBytes} B, ${base.tokensPerSecond.toFixed(1)} tok/s`);

      const rows: BenchRow[] = [];
      const results = new Map<string, Measured & { linearRatio: number }>();
      for (const variant of ['int8', 'int4-g32', 'int4-g32-asym', 'gptq-int4-g32', 'int4-g128', 'gptq-int4-g128', 'int4-g32+int8-embeddings']) {
        const scheme = variant.split('+')[0]!;
        const model = await loadQuantizedModel(fp32Dir);
        const t = performance.now();
        const q = quantizeModel({ model, scheme, calibration });
        const quantMs = performance.now() - t;
        const dir = join(root, variant);
        await saveQuantizedModel({ model, dir, scheme, embeddings: variant.endsWith('embeddings') ? 'int8' : 'float32' });
        model.dispose();
        // Measure the model as a user gets it: loaded from disk, packed in memory.
        const loaded = await loadQuantizedModel(dir);
        const m = await measure(loaded, dir, heldOut, prompt, newTokens);
        loaded.dispose();
        const linearRatio = (await packedDiskBytes(dir)) / q.quantized.reduce((a, x) => a + x.floatBytes, 0);
        results.set(variant, { ...m, linearRatio });
        log(`${variant}: quantized in ${(quantMs / 1000).toFixed(1)} s; ppl ${m.ppl.toFixed(4)}, ${m.bytes} B, peak ${m.peakBytes} B, ${m.tokensPerSecond.toFixed(1)} tok/s`);
      }
      const delta = (ppl: number) => `Δppl ${(((ppl / base.ppl) - 1) * 100).toFixed(2)}%`;
      for (const [scheme, m] of results) {
        const target = scheme === 'int8' ? 1 / 1.005 : scheme === 'int4-g32' ? 1 / 1.03 : undefined;
        rows.push({ name: `perplexity ${scheme}`, unit: 'ppl', ours: m.ppl, peer: base.ppl, peerName: 'fp32', higherIsBetter: false, target, note: delta(m.ppl) });
      }
      for (const g of ['g32', 'g128']) {
        const rtn = results.get(`int4-${g}`)!;
        const gptq = results.get(`gptq-int4-${g}`)!;
        rows.push({ name: `KL to fp32, gptq-int4-${g}`, unit: 'nats', ours: gptq.kl, peer: rtn.kl, peerName: `RTN int4-${g}`, higherIsBetter: false, note: `ppl ${gptq.ppl.toFixed(4)} vs RTN ${rtn.ppl.toFixed(4)}` });
      }
      for (const [scheme, m] of results) {
        const target = scheme === 'int8' ? 1 / 0.27 : scheme.startsWith('int4-g32') && !scheme.includes('asym') ? 1 / 0.16 : undefined;
        rows.push({
          name: `size on disk ${scheme}`,
          unit: 'bytes',
          ours: m.bytes,
          peer: base.bytes,
          peerName: 'fp32',
          higherIsBetter: false,
          target,
          note: `packed linears alone ${m.linearRatio.toFixed(3)}× their fp32 bytes; ${scheme.endsWith('embeddings') ? 'embedding int8 on disk' : 'embedding'}, norms, router fp32`,
        });
      }
      for (const [scheme, m] of results) {
        rows.push({ name: `peak memory, 1-token forward, ${scheme}`, unit: 'bytes', ours: m.peakBytes, peer: base.peakBytes, peerName: 'fp32', higherIsBetter: false });
      }
      for (const [scheme, m] of results) {
        rows.push({
          name: `decode ${scheme}`,
          unit: 'tok/s',
          ours: m.tokensPerSecond,
          peer: base.tokensPerSecond,
          peerName: 'fp32 deepline',
          higherIsBetter: true,
          target: scheme === 'int4-g32' ? 1 : undefined,
        });
      }
      rows.push(...(await llamaRows(root, fp32Dir, prompt, newTokens, results.get('int4-g32')!.tokensPerSecond, base.tokensPerSecond)));
      return rows;
    } finally {
      reference?.dispose();
      reference = undefined;
      await rm(root, { recursive: true, force: true });
    }
  },
});

async function llamaRows(root: string, fp32Dir: string, prompt: number[], newTokens: number, oursInt4: number, oursFp32: number): Promise<BenchRow[]> {
  const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false, maxThreads: 1 });
  const model = await DeepseekModel.load(fp32Dir);
  const rows: BenchRow[] = [];
  try {
    for (const [type, ours] of [
      ['q4_0', oursInt4],
      ['f16', oursFp32],
    ] as const) {
      const path = join(root, `model-${type}.gguf`);
      await exportGguf({ model, type, tokenizer: tinyTokenizerJson(config.vocabSize), out: path });
      const lm = await llama.loadModel({ modelPath: path });
      const context = await lm.createContext({ contextSize: 256, threads: 1 });
      const sequence = context.getSequence();
      let first = 0;
      let count = 0;
      for await (const _ of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
        if (count === 0) first = performance.now();
        if (++count >= newTokens) break;
      }
      const tokensPerSecond = ((count - 1) * 1000) / (performance.now() - first);
      await context.dispose();
      await lm.dispose();
      rows.push({
        name: `decode vs llama.cpp ${type} (deepline ${type === 'q4_0' ? 'int4-g32' : 'fp32'})`,
        unit: 'tok/s',
        ours,
        peer: tokensPerSecond,
        peerName: `llama.cpp ${type}, 1 thread`,
        higherIsBetter: true,
      });
    }
  } finally {
    model.dispose();
    await llama.dispose();
  }
  return rows;
}
