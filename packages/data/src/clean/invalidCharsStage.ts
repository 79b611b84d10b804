import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';

export interface InvalidCharsOptions {
  /** Also keep punctuation (\p{P}) and common symbols (\p{Sc}, \p{Sm}, \p{Sk}) (default true, since later line rules need `.?!`). */
  keepPunctuation?: boolean;
  /** Reject the document when more than this fraction of its characters were removed (default 0.1). */
  maxRemovedFraction?: number;
}

/** Matches a character outside tab, newline and printable ASCII. */
const PLAIN_ASCII = /[^\t\n\x20-\x7e]/;
/** Matches a character outside tab, newline, space, ASCII letters/digits and `_`. */
const PLAIN_ALNUM = /[^\t\n 0-9A-Za-z_]/;

/**
 * The invalid-character filter: keeps word characters (letters, marks, digits, `_`),
 * whitespace and CJK (ideographs, kana, hangul, CJK punctuation, full-width forms); deletes
 * everything else (control characters, private use, U+FFFD, emoji, box drawing…). A document
 * that loses too much is mostly garbage and is rejected.
 */
export function invalidCharsStage(options: InvalidCharsOptions = {}): CleaningStage {
  const keepPunct = options.keepPunctuation ?? true;
  const maxRemoved = options.maxRemovedFraction ?? 0.1;
  const cjk =
    '\\u2e80-\\u2fdf\\u3000-\\u303f\\u3040-\\u30ff\\u3100-\\u312f\\u3130-\\u318f\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af\\uf900-\\ufaff\\uff00-\\uffef';
  const allowed = `\\p{L}\\p{M}\\p{N}_\\s${cjk}${keepPunct ? '\\p{P}\\p{Sc}\\p{Sm}\\p{Sk}' : ''}`;
  const invalid = new RegExp(`[^${allowed}]`, 'gu');
  // Whitespace control characters other than \n and space are also unwanted.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is this stage's job.
  const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
  // Text made only of these characters is untouched by both patterns (checked exhaustively in
  // the tests), so one fast test skips the Unicode-property scan for plain ASCII documents.
  const plain = keepPunct ? PLAIN_ASCII : PLAIN_ALNUM;
  return {
    name: 'invalid_chars',
    apply(doc: Document): StageResult {
      if (!plain.test(doc.text)) return doc;
      const text = doc.text.replace(controls, '').replace(invalid, '');
      if (text === doc.text) return doc;
      const removed = doc.text.length - text.length;
      if (removed / doc.text.length > maxRemoved) {
        return reject('too_many_invalid_chars', `${removed}/${doc.text.length} chars invalid`);
      }
      return { ...doc, text };
    },
  };
}
