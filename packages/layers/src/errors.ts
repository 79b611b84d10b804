import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a LayersError. */
export interface LayersErrorContext {
  /** Config field (camelCase or HF snake_case) that is wrong. */
  field?: string;
  /** File involved (config.json, a safetensors shard…). */
  file?: string;
  /** Tensor (weight) name involved. */
  tensor?: string;
  expectedShape?: number[];
  actualShape?: number[];
  [key: string]: unknown;
}

/** Every error raised by @deepline/layers. `code` is stable; `context` names the culprit. */
export class LayersError extends DeeplineError<LayersErrorContext> {}

/** Throws a LayersError for an invalid config field. */
export function configError(field: string, message: string, source?: string): never {
  throw new LayersError(`${source ? `${source}: ` : ''}config field '${field}' ${message}`, {
    code: 'CONFIG_INVALID',
    context: { field, file: source },
  });
}
