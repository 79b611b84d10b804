import { DeeplineError } from '@deepline/core';

/** Machine-readable details of a tokenizer failure. */
export interface TokenizerErrorContext {
  /** File being read or written, when one is involved. */
  file?: string;
  /** JSON path of the offending field, e.g. `model.merges[12]`. */
  field?: string;
  /** 1-based line number in a rank file. */
  line?: number;
  [key: string]: unknown;
}

/** Every error thrown by @deepline/tokenizer. */
export class TokenizerError extends DeeplineError<TokenizerErrorContext> {}

/** Shorthand for a malformed-input error that names the field. */
export function fieldError(
  field: string,
  problem: string,
  context: TokenizerErrorContext = {},
): TokenizerError {
  const where = context.file ? `${context.file}: ` : '';
  return new TokenizerError(`${where}${field}: ${problem}`, {
    code: 'TOKENIZER_BAD_FIELD',
    context: { ...context, field },
  });
}

/** Largest token id accepted from files (16.7M): far above real vocabs, small enough to index arrays. */
export const MAX_TOKEN_ID = (1 << 24) - 1;
