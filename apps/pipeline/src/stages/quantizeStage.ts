import { copyFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeepseekModel } from '@deepline/layers';
import { loadQuantizedModel, measurePeakMemory, perplexity, quantizeModel, saveQuantizedModel } from '@deepline/quantizer';
import type { PipelineConfig } from '../config.js';
import { heldOutTokens } from '../heldOutTokens.js';
import type { Stage } from '../stage.js';
import { loadStageTokenizer } from './tokenizerStage.js';
import { sampleGenerations, testTokens } from './evaluateStage.js';

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(path) : (await stat(path)).size;
  }
  return total;
}

async function weightBytes(dir: string): Promise<number> {
  let total = 0;
  for (const file of await readdir(dir)) if (file.endsWith('.safetensors')) total += (await stat(join(dir, file))).size;
  return total;
}

/** Quantizes the trained model with each scheme and measures perplexity, size, memory and speed. */
export const quantizeStage: Stage<PipelineConfig> = {
  name: 'quantize',
  description: 'quantize (int8, int4) and evaluate each scheme',
  dependsOn: ['tokenizer', 'shard', 'train'],
  configSlice: (c) => ({ quantize: c.quantize, evaluate: c.evaluate, seqLen: c.train.seqLen, seed: c.seed }),
  params: (c) => ({ schemes: c.quantize.schemes.join(','), embeddings: c.quantize.embeddings }),
  async run({ config, dir, inputs, logger }) {
    const tokenizer = await loadStageTokenizer(inputs.tokenizer!);
    const modelDir = join(inputs.train!.dir, inputs.train!.outputs.model as string);
    const tokens = await testTokens(config, inputs.shard!);
    const calibration = await heldOutTokens({
      shardsDir: join(inputs.shard!.dir, inputs.shard!.outputs.shards as string),
      split: 'train',
      window: config.train.seqLen,
      maxTokens: 16 * config.train.seqLen,
    });
    const calibrationSequences = Array.from({ length: Math.floor(calibration.length / config.train.seqLen) }, (_, i) =>
      calibration.slice(i * config.train.seqLen, (i + 1) * config.train.seqLen),
    );
    const measure = async (model: DeepseekModel) => {
      const { ppl } = perplexity({ model, tokens, window: config.train.seqLen });
      const memory = await measurePeakMemory(model, () => perplexity({ model, tokens: tokens.slice(0, config.train.seqLen + 1), window: config.train.seqLen }));
      const prompts = config.evaluate.prompts.slice(0, 1);
      sampleGenerations(model, tokenizer, prompts, config.evaluate.maxNewTokens); // warm-up: first calls compile and allocate
      // Best of three: decode speed on a shared machine is noisy, and every scheme gets the same treatment.
      let decodeTokensPerSecond = 0;
      for (let i = 0; i < 3; i++) {
        decodeTokensPerSecond = Math.max(decodeTokensPerSecond, sampleGenerations(model, tokenizer, prompts, config.evaluate.maxNewTokens).decodeTokensPerSecond);
      }
      return { ppl, peakBytes: memory.peakBytes, decodeTokensPerSecond };
    };
    const fp32 = await DeepseekModel.load(modelDir);
    const base = await measure(fp32);
    fp32.dispose();
    const fp32Bytes = await weightBytes(modelDir);
    const report: Record<string, unknown>[] = [{ scheme: 'fp32', perplexity: base.ppl, bytes: fp32Bytes, sizeRatio: 1, peakBytes: base.peakBytes, decodeTokensPerSecond: base.decodeTokensPerSecond }];
    const metrics: Record<string, number> = { fp32_perplexity: base.ppl, fp32_bytes: fp32Bytes, fp32_decode_tps: base.decodeTokensPerSecond };
    const schemes: Record<string, string> = {};
    for (const scheme of config.quantize.schemes) {
      logger.info(`quantizing with ${scheme}`);
      const model = await DeepseekModel.load(modelDir);
      quantizeModel({ model, scheme, calibration: calibrationSequences });
      const out = join(dir, scheme);
      await saveQuantizedModel({ model, dir: out, scheme, embeddings: config.quantize.embeddings === 'int8' ? 'int8' : undefined });
      model.dispose();
      await copyFile(join(inputs.tokenizer!.dir, inputs.tokenizer!.outputs.tokenizer as string), join(out, 'tokenizer.json'));
      // Measure the model as users get it: loaded back from disk, packed.
      const loaded = await loadQuantizedModel(out);
      const m = await measure(loaded);
      loaded.dispose();
      const bytes = await weightBytes(out);
      const key = scheme.replace(/[^a-z0-9]+/gi, '_');
      schemes[scheme] = scheme;
      const deltaPct = ((m.ppl - base.ppl) / base.ppl) * 100;
      report.push({ scheme, perplexity: m.ppl, deltaPerplexityPct: deltaPct, bytes, sizeRatio: bytes / fp32Bytes, peakBytes: m.peakBytes, decodeTokensPerSecond: m.decodeTokensPerSecond });
      Object.assign(metrics, {
        [`${key}_perplexity`]: m.ppl,
        [`${key}_delta_ppl_pct`]: deltaPct,
        [`${key}_bytes`]: bytes,
        [`${key}_size_ratio`]: bytes / fp32Bytes,
        [`${key}_peak_bytes`]: m.peakBytes,
        [`${key}_decode_tps`]: m.decodeTokensPerSecond,
      });
    }
    await writeFile(join(dir, 'quantization-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    return { outputs: { schemes, report }, metrics, artifacts: ['quantization-report.json'] };
  },
};
