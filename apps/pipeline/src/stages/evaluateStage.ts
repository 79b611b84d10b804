import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeepseekModel } from '@deepline/layers';
import { greedyDecode, perplexity } from '@deepline/quantizer';
import type { Tokenizer } from '@deepline/tokenizer';
import type { PipelineConfig } from '../config.js';
import { heldOutTokens } from '../heldOutTokens.js';
import type { Stage, StageResult } from '../stage.js';
import { loadStageTokenizer } from './tokenizerStage.js';

export interface Sample {
  prompt: string;
  completion: string;
}

/** Greedy continuations of each prompt. */
export function sampleGenerations(model: DeepseekModel, tokenizer: Tokenizer, prompts: string[], maxNewTokens: number): { samples: Sample[]; decodeTokensPerSecond: number } {
  const samples: Sample[] = [];
  let speed = 0;
  for (const prompt of prompts) {
    const ids = Array.from(tokenizer.encode(prompt));
    const room = Math.max(1, Math.min(maxNewTokens, model.config.maxSeqLen - ids.length));
    const out = greedyDecode({ model, prompt: ids.slice(-(model.config.maxSeqLen - 1)), maxNewTokens: room });
    samples.push({ prompt, completion: tokenizer.decode(out.tokens) });
    speed += out.decodeTokensPerSecond / prompts.length;
  }
  return { samples, decodeTokensPerSecond: speed };
}

export async function testTokens(config: PipelineConfig, shard: StageResult): Promise<number[]> {
  return heldOutTokens({ shardsDir: join(shard.dir, shard.outputs.shards as string), split: 'test', window: config.train.seqLen, maxTokens: config.evaluate.maxTokens });
}

/** Perplexity on the held-out test split and sample generations from the trained model. */
export const evaluateStage: Stage<PipelineConfig> = {
  name: 'evaluate',
  description: 'held-out perplexity and sample generations',
  dependsOn: ['tokenizer', 'shard', 'train'],
  configSlice: (c) => ({ evaluate: c.evaluate, seqLen: c.train.seqLen }),
  async run({ config, dir, inputs }) {
    const tokenizer = await loadStageTokenizer(inputs.tokenizer!);
    const model = await DeepseekModel.load(join(inputs.train!.dir, inputs.train!.outputs.model as string));
    try {
      const tokens = await testTokens(config, inputs.shard!);
      const { ppl, nll, count } = perplexity({ model, tokens, window: config.train.seqLen });
      const { samples, decodeTokensPerSecond } = sampleGenerations(model, tokenizer, config.evaluate.prompts, config.evaluate.maxNewTokens);
      await writeFile(join(dir, 'samples.json'), `${JSON.stringify(samples, null, 2)}\n`);
      return {
        outputs: { samples },
        metrics: { test_perplexity: ppl, test_nll: nll, test_tokens: count, decode_tokens_per_second: decodeTokensPerSecond },
        artifacts: ['samples.json'],
      };
    } finally {
      model.dispose();
    }
  },
};
