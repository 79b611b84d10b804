import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a kernel error. */
export interface KernelsErrorContext {
  /** The op or kernel that rejected its input, e.g. 'int4MatMul'. */
  op: string;
  /** The argument at fault, e.g. 'scales'. */
  field?: string;
  /** Shapes involved, when relevant. */
  shapes?: Record<string, number[]>;
  [key: string]: unknown;
}

/** Errors raised by @deepline/kernels-wasm (bad shapes or dtypes, wrong backend). */
export class KernelsError extends DeeplineError<KernelsErrorContext> {}
