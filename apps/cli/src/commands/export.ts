import { join } from 'node:path';
import { initBackend, parseBackendChoice } from '@deepline/core';
import { readModelDir } from '@deepline/layers';
import { GGUF_EXPORT_TYPES, type GgufExportType, exportGguf, loadQuantizedModel, readQuantizationConfig } from '@deepline/quantizer';
import { type Command, UsageError, parseFlags } from '../command.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export a model for other runtimes: GGUF v3 (llama.cpp deepseek2) as f32/f16/q8_0/q4_0',
  usage:
    'deepline export gguf --model <dir> --type f32|f16|q8_0|q4_0 --out <file.gguf> [--tokenizer <tokenizer.json>] [--pre deepseek-v3] [--name <name>] [--backend wasm|cpu|…]',
  async run({ argv, stdout }) {
    const { values, positionals } = parseFlags(argv, {
      model: { type: 'string' },
      type: { type: 'string' },
      out: { type: 'string' },
      tokenizer: { type: 'string' },
      pre: { type: 'string' },
      name: { type: 'string' },
      backend: { type: 'string' },
    });
    if (positionals[0] !== 'gguf' || positionals.length !== 1) throw new UsageError(`expected the format 'gguf', got '${positionals.join(' ')}'`);
    if (!values.model || !values.type || !values.out) throw new UsageError('--model, --type and --out are required');
    if (!(GGUF_EXPORT_TYPES as readonly string[]).includes(values.type)) {
      throw new UsageError(`--type must be one of ${GGUF_EXPORT_TYPES.join(', ')}; got '${values.type}'`);
    }
    const type = values.type as GgufExportType;
    const tokenizer = values.tokenizer ?? join(values.model, 'tokenizer.json');
    const common = { type, tokenizer, out: values.out, name: values.name, tokenizerOptions: values.pre ? { pre: values.pre } : undefined };
    let result: Awaited<ReturnType<typeof exportGguf>>;
    if (await readQuantizationConfig(values.model)) {
      // Packed weights are dequantized to float32 before re-encoding as GGUF blocks.
      await initBackend({ backend: values.backend === undefined ? 'auto' : parseBackendChoice(values.backend, '--backend') });
      const model = await loadQuantizedModel(values.model);
      try {
        result = await exportGguf({ ...common, model });
      } finally {
        model.dispose();
      }
    } else {
      const { config, tensors } = await readModelDir(values.model);
      result = await exportGguf({ ...common, config, tensors });
    }
    const types = Object.entries(result.typeCounts)
      .map(([t, n]) => `${n} ${t}`)
      .join(', ');
    stdout.write(`wrote ${result.path}: ${result.tensorCount} tensors (${types}), ${(result.bytes / (1 << 20)).toFixed(2)} MiB\n`);
    return 0;
  },
};
