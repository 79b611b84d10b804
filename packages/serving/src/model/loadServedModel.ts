import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadQuantizedModel } from '@deepline/quantizer';
import { Tokenizer } from '@deepline/tokenizer';
import { ServingError } from '../errors.js';
import type { ServedModel } from '../http/server.js';
import { DeepseekLanguageModel } from './deepseekLanguageModel.js';
import { tokenizerAdapter } from './tokenizerAdapter.js';

export interface LoadServedModelOptions {
  /** HF-style directory: config.json, model.safetensors (or shards), tokenizer.json. */
  dir: string;
  /** Name clients put in `model` (default: the directory's name). */
  name?: string;
  /** Cap on the context window (default: the config's max_position_embeddings). */
  contextLength?: number;
}

/**
 * Loads a model directory for serving: float or quantized (a `quantization_config` in
 * config.json, as written by @deepline/quantizer), plus its tokenizer.
 */
export async function loadServedModel(options: LoadServedModelOptions): Promise<ServedModel> {
  const dir = resolve(options.dir);
  for (const file of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(dir, file))) {
      throw new ServingError(`model directory ${dir} has no ${file}`, { code: 'model_dir', context: { status: 500, type: 'server_error', file: join(dir, file) } });
    }
  }
  // Reads float directories too; packed int8/int4 weights stay packed (QuantizedLinear).
  const model = await loadQuantizedModel(dir);
  const lm = new DeepseekLanguageModel(model, { contextLength: options.contextLength });
  const tokenizer = await Tokenizer.fromFile(join(dir, 'tokenizer.json'));
  return {
    name: options.name ?? basename(dir),
    model: lm,
    tokenizer: tokenizerAdapter(tokenizer),
    dispose: () => {
      lm.dispose();
      model.dispose();
    },
  };
}
