/**
 * Base error for every deepline package. `context` carries typed, machine-readable
 * details (file, field, tensor name, shapes…) so callers can react without parsing text.
 */
export class DeeplineError<C extends object = Record<string, unknown>> extends Error {
  readonly code: string;
  readonly context: C;

  constructor(message: string, options: { code: string; context: C; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.context = options.context;
  }
}

/** Errors raised by @deepline/core itself. */
export class CoreError extends DeeplineError<CoreErrorContext> {}

export interface CoreErrorContext {
  file?: string;
  field?: string;
  backend?: string;
  tensor?: string;
  [key: string]: unknown;
}
