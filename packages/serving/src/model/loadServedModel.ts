import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DeepseekModel } from '@deepline/layers';
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
 * Loads a model directory for serving. Quantized directories (a `quantization_config` in
 * config.json) are loaded through @deepline/quantizer's `loadQuantizedModel` when it
 * provides one.
 */
export async function loadServedModel(options: LoadServedModelOptions): Promise<ServedModel> {
  const dir = resolve(options.dir);
  for (const file of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(dir, file))) {
      throw new ServingError(`model directory ${dir} has no ${file}`, { code: 'model_dir', context: { status: 500, type: 'server_error', file: join(dir, file) } });
    }
  }
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const model = config.quantization_config ? await loadQuantized(dir) : await DeepseekModel.load(dir);
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

async function loadQuantized(dir: string): Promise<DeepseekModel> {
  const quantizer = (await import('@deepline/quantizer')) as Record<string, unknown>;
  const load = quantizer.loadQuantizedModel as ((dir: string) => Promise<DeepseekModel>) | undefined;
  if (typeof load !== 'function') {
    throw new ServingError(`${dir} holds a quantized model but @deepline/quantizer has no loadQuantizedModel`, {
      code: 'model_dir',
      context: { status: 500, type: 'server_error', file: join(dir, 'config.json') },
    });
  }
  return load(dir);
}
