import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageResult } from './stage.js';

export interface PublishedOutputs {
  dir: string;
  model: string;
  quantized: Record<string, string>;
  gguf: Record<string, string>;
}

/** Copies the final artifacts from the stage cache to <outDir>/outputs, where users find them. */
export async function publishOutputs(outDir: string, results: Record<string, StageResult>): Promise<PublishedOutputs> {
  const dir = join(outDir, 'outputs');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const train = results.train!;
  const model = join(dir, 'model');
  await cp(join(train.dir, train.outputs.model as string), model, { recursive: true });
  const quantized: Record<string, string> = {};
  const quantize = results.quantize;
  for (const scheme of Object.keys((quantize?.outputs.schemes as Record<string, string>) ?? {})) {
    quantized[scheme] = join(dir, `model-${scheme}`);
    await cp(join(quantize!.dir, scheme), quantized[scheme]!, { recursive: true });
  }
  const gguf: Record<string, string> = {};
  const exported = results.export;
  for (const [type, file] of Object.entries((exported?.outputs.gguf as Record<string, string>) ?? {})) {
    gguf[type] = join(dir, file);
    await cp(join(exported!.dir, file), gguf[type]!);
  }
  return { dir, model, quantized, gguf };
}
