import type { Document } from '../types.js';
import type { CleaningStage } from './stage.js';

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
      if (whitespace) {
        text = text
          .replace(/\r\n?/g, '\n')
          .replace(/[\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
          .replace(/ {2,}/g, ' ')
          .replace(/ \n/g, '\n')
          .replace(/\n{3,}/g, '\n\n')
          .trim();
      }
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}
