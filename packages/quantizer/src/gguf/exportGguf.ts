import type { DeepseekConfig, DeepseekModel, HostTensor } from '@deepline/layers';
import { fail } from '../errors.js';
import { type GgufExportType, GGUF_EXPORT_TYPES, deepseek2Metadata, deepseek2Tensors } from './deepseek2Gguf.js';
import { writeGgufFile } from './ggufWriter.js';
import { type TokenizerMetadataOptions, tokenizerGgufMetadata } from './tokenizerMetadata.js';

/** Options of {@link exportGguf}. Give either `model` or `config` + `tensors`. */
export interface ExportGgufOptions {
  /** A loaded model (quantized linears are dequantized through `hostTensors()`). */
  model?: DeepseekModel;
  /** Architecture config, when exporting from host tensors. */
  config?: DeepseekConfig;
  /** Float32 tensors by HF name, when exporting from host tensors. */
  tensors?: Map<string, HostTensor>;
  /** Tensor storage: `f32`, `f16`, `q8_0` or `q4_0`. */
  type: GgufExportType;
  /** tokenizer.json path or object (byte-level BPE) for the `tokenizer.ggml.*` keys. */
  tokenizer: string | object;
  /** Output .gguf path. */
  out: string;
  /** `general.name` (default 'deepline'). */
  name?: string;
  /** Overrides of the tokenizer metadata (pre name, BOS/EOS ids, chat template…). */
  tokenizerOptions?: Omit<TokenizerMetadataOptions, 'tokenizer' | 'vocabSize'>;
}

/** What {@link exportGguf} wrote. */
export interface ExportGgufResult {
  path: string;
  bytes: number;
  tensorCount: number;
  /** Per ggml type name, how many tensors were written with it. */
  typeCounts: Record<string, number>;
}

const TYPE_NAMES: Record<number, string> = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 8: 'Q8_0' };

/**
 * Writes a GGUF v3 file (alignment 32) for llama.cpp's `deepseek2` architecture: model
 * metadata, `tokenizer.ggml.*` from tokenizer.json, and the weights as F32/F16/Q8_0/Q4_0.
 */
export async function exportGguf(options: ExportGgufOptions): Promise<ExportGgufResult> {
  if (!GGUF_EXPORT_TYPES.includes(options.type)) {
    fail('BAD_OPTION', `GGUF type must be one of ${GGUF_EXPORT_TYPES.join(', ')}, got ${JSON.stringify(options.type)}`, { field: 'type' });
  }
  const config = options.model?.config ?? options.config;
  const tensors = options.model ? options.model.hostTensors() : options.tensors;
  if (!config || !tensors) fail('BAD_OPTION', 'exportGguf needs either model or config + tensors', { field: 'model' });
  const tokenizer = await tokenizerGgufMetadata({ ...options.tokenizerOptions, tokenizer: options.tokenizer, vocabSize: config.vocabSize });
  const metadata = [...deepseek2Metadata(config, { type: options.type, name: options.name }), ...tokenizer];
  const ggufTensors = deepseek2Tensors(config, tensors, options.type);
  const bytes = await writeGgufFile(options.out, { metadata, tensors: ggufTensors, alignment: 32 });
  const typeCounts: Record<string, number> = {};
  for (const t of ggufTensors) typeCounts[TYPE_NAMES[t.type]!] = (typeCounts[TYPE_NAMES[t.type]!] ?? 0) + 1;
  return { path: options.out, bytes, tensorCount: ggufTensors.length, typeCounts };
}
