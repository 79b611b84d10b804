import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a native-kernel error. */
export interface NativeKernelsErrorContext {
  /** The function or option at fault, e.g. 'setNativeThreads'. */
  op: string;
  /** The argument at fault, e.g. 'threads'. */
  field?: string;
  [key: string]: unknown;
}

/** Errors raised by @deepline/kernels-native (bad options, a native call that failed). */
export class NativeKernelsError extends DeeplineError<NativeKernelsErrorContext> {}
