import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a TrainerError. */
export interface TrainerErrorContext {
  /** Config or option field that is wrong (dotted path). */
  field?: string;
  /** File or directory involved (a checkpoint, a metrics file…). */
  file?: string;
  /** Weight name involved. */
  tensor?: string;
  /** Training step at which the problem happened. */
  step?: number;
  [key: string]: unknown;
}

/** Every error raised by @deepline/trainer. `code` is stable; `context` names the culprit. */
export class TrainerError extends DeeplineError<TrainerErrorContext> {}

/** Throws a TrainerError for an invalid option field. */
export function optionError(field: string, message: string): never {
  throw new TrainerError(`option '${field}' ${message}`, {
    code: 'OPTION_INVALID',
    context: { field },
  });
}

/** Checks a finite number within [min, max]; `field` names it in the error. */
export function checkNumber(
  field: string,
  value: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    optionError(field, `must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Checks an integer ≥ min. */
export function checkInteger(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    optionError(field, `must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}
