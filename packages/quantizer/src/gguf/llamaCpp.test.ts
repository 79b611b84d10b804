// The GGUF export is loaded by llama.cpp itself (node-llama-cpp's prebuilt CPU binary, no
// download or build at run time) and must continue a prompt exactly like deepline does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { LlamaLogLevel, getLlama, type Llama, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { greedyDecode } from '../evaluate.js';
import { quantizeModel } from '../quantizeModel.js';
import { tinyConfig, tinyTokenizerJson } from '../testing/fixtures.js';
import { exportGguf } from './exportGguf.js';

let dir: string;
let model: DeepseekModel;
let llama: Llama;
let prompt: number[];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await makeTempDir('gguf-llama-');
  const trained = inject('trainedModelDir');
  model = await DeepseekModel.load(trained);
  const tokens = JSON.parse(await readFile(join(trained, 'tokens.json'), 'utf8')) as { heldOut: number[] };
  prompt = tokens.heldOut.slice(0, 12);
  // build: 'never' → only the prebuilt binary shipped in @node-llama-cpp/<platform> is used.
  llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false, maxThreads: 1 });
});

afterAll(async () => {
  model?.dispose();
  await llama?.dispose();
  await removeDir(dir);
});

async function llamaGreedy(path: string, ids: number[], count: number): Promise<number[]> {
  const lm = await llama.loadModel({ modelPath: path });
  // One thread: llama.cpp's spinning workers crawl on a loaded 2-core machine.
  const context = await lm.createContext({ contextSize: 128, threads: 1 });
  try {
    const out: number[] = [];
    for await (const token of context.getSequence().evaluate(ids as Token[], { temperature: 0 })) {
      out.push(token);
      if (out.length >= count) break;
    }
    return out;
  } finally {
    await context.dispose();
    await lm.dispose();
  }
}

describe('llama.cpp runs the exported GGUF', () => {
  it('uses the offline prebuilt binary', () => {
    expect(llama.buildType).toBe('prebuilt');
  });

  for (const type of ['f16', 'q8_0'] as const) {
    it(`${type}: same greedy continuation as deepline`, async () => {
      const path = join(dir, `model-${type}.gguf`);
      await exportGguf({ model, type, tokenizer: tinyTokenizerJson(model.config.vocabSize), out: path });
      const ours = greedyDecode({ model, prompt, maxNewTokens: 16 }).tokens;
      const theirs = await llamaGreedy(path, prompt, 16);
      expect(theirs).toEqual(ours);
    });
  }

  it('q4_0 of the int4-g32 model: same greedy continuation as deepline int4-g32', async () => {
    // Symmetric int4-g32 re-encodes into Q4_0 blocks exactly, so both run the same weights
    // (llama.cpp also rounds the embedding to Q4_0 and the head to Q8_0).
    const q = await DeepseekModel.load(inject('trainedModelDir'));
    quantizeModel({ model: q, scheme: 'int4-g32' });
    const path = join(dir, 'model-int4.gguf');
    await exportGguf({ model: q, type: 'q4_0', tokenizer: tinyTokenizerJson(q.config.vocabSize), out: path });
    const ours = greedyDecode({ model: q, prompt, maxNewTokens: 16 }).tokens;
    q.dispose();
    expect(await llamaGreedy(path, prompt, 16)).toEqual(ours);
  });

  // Metadata paths the trained model does not exercise: YaRN (positions past the original
  // context), a plain query projection (q_lora_rank 0) and softmax routing with route scale.
  const variants = {
    yarn: { maxSeqLen: 128, originalSeqLen: 32, ropeFactor: 4 },
    'q_lora_rank 0': { qLoraRank: 0 },
    'softmax router': { scoreFunc: 'softmax' as const, useCorrectionBias: false, nExpertGroups: 1, nLimitedGroups: 1, routeScale: 2 },
  };
  for (const [label, overrides] of Object.entries(variants)) {
    it(`f32, ${label}: same greedy continuation as deepline`, async () => {
      const config = tinyConfig(overrides);
      const variant = DeepseekModel.create(config, { seed: 5, initStd: 0.05 });
      const ids = Array.from({ length: 40 }, (_, i) => (i * 13 + 7) % 300);
      const path = join(dir, `variant-${label.replace(/\W+/g, '-')}.gguf`);
      await exportGguf({ model: variant, type: 'f32', tokenizer: tinyTokenizerJson(config.vocabSize), out: path });
      const ours = greedyDecode({ model: variant, prompt: ids, maxNewTokens: 24 }).tokens;
      variant.dispose();
      expect(await llamaGreedy(path, ids, 24)).toEqual(ours);
    });
  }
});
