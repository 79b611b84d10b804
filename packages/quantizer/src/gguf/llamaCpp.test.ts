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
import { tinyTokenizerJson } from '../testing/fixtures.js';
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
});
