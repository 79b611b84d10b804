import type { Document } from '../types.js';
import type { CleaningStage } from './stage.js';
import { tidyWhitespace } from './tidyWhitespace.js';

export interface NormalizeOptions {
  /** Unicode normal form (default 'NFC'; 'NFKC' also folds compatibility characters). */
  form?: 'NFC' | 'NFKC' | 'NFD' | 'NFKD';
  /** Turn CRLF/CR into LF, tabs/odd spaces into spaces, trim line ends, squeeze 3+ newlines (default true). */
  whitespace?: boolean;
}

/**
 * Unicode normalisation plus whitespace tidying. Never rejects; documents that become empty
 * are left for later stages to drop with a clear reason.
 */
export function normalizeStage(options: NormalizeOptions = {}): CleaningStage {
  const form = options.form ?? 'NFC';
  const whitespace = options.whitespace ?? true;
  return {
    name: 'normalize',
    apply(doc: Document): Document {
      let text = doc.text.normalize(form);
      if (whitespace) text = tidyWhitespace(text);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}
