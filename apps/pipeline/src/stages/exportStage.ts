import { join } from 'node:path';
import { DeepseekModel } from '@deepline/layers';
import { type GgufExportType, exportGguf } from '@deepline/quantizer';
import type { PipelineConfig } from '../config.js';
import type { Stage } from '../stage.js';

/** GGUF exports for llama.cpp, the model logged as an MLflow artifact and registered. */
export const exportStage: Stage<PipelineConfig> = {
  name: 'export',
  description: 'export GGUF and register the model in MLflow',
  dependsOn: ['tokenizer', 'train'],
  configSlice: (c) => ({ export: c.export, name: c.name }),
  params: (c) => ({ gguf: c.export.gguf.join(',') }),
  async run({ config, dir, inputs, tracker, logger }) {
    const modelDir = join(inputs.train!.dir, inputs.train!.outputs.model as string);
    const tokenizerPath = join(inputs.tokenizer!.dir, inputs.tokenizer!.outputs.tokenizer as string);
    const model = await DeepseekModel.load(modelDir);
    const gguf: Record<string, string> = {};
    const metrics: Record<string, number> = {};
    try {
      for (const type of config.export.gguf as GgufExportType[]) {
        const file = `model-${type}.gguf`;
        const result = await exportGguf({ model, type, tokenizer: tokenizerPath, out: join(dir, file), name: config.name });
        gguf[type] = file;
        metrics[`gguf_${type}_bytes`] = result.bytes;
        logger.info(`wrote ${file} (${result.tensorCount} tensors, ${(result.bytes / 1e6).toFixed(2)} MB)`);
      }
    } finally {
      model.dispose();
    }
    await tracker.logArtifact(modelDir, 'model');
    let registered: { name: string; version: string } | undefined;
    if (tracker.registerModel) registered = await tracker.registerModel(config.name, 'model');
    return { outputs: { gguf, registered }, metrics, artifacts: Object.values(gguf) };
  },
};
