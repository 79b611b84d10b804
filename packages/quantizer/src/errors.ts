import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a QuantizerError. */
export interface QuantizerErrorContext {
  /** Option or config field that is wrong (e.g. `scheme`, `groupSize`). */
  field?: string;
  /** File involved (config.json, a safetensors file, a GGUF file, tokenizer.json). */
  file?: string;
  /** Tensor (weight) name involved. */
  tensor?: string;
  /** Shape involved, when a shape is wrong. */
  shape?: number[];
  [key: string]: unknown;
}

/** Every error raised by @deepline/quantizer. `code` is stable; `context` names the culprit. */
export class QuantizerError extends DeeplineError<QuantizerErrorContext> {}

/** Throws a QuantizerError with the given code and context. */
export function fail(code: string, message: string, context: QuantizerErrorContext = {}): never {
  throw new QuantizerError(message, { code, context });
}
