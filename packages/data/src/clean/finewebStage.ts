import type { Document } from '../types.js';
import { findDuplicates } from './gopherRepetitionStage.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';
import { countWords } from './textStats.js';

/** FineWeb quality rules (datatrove FineWebQualityFilter defaults). */
export interface FinewebOptions {
  /** Min share of lines ending in terminal punctuation (default 0.12). */
  linePunctThreshold?: number;
  /** Don't reject a document whose share is exactly 0 (default false). */
  linePunctExcludeZero?: boolean;
  /** Max share of lines of at most `shortLineLength` chars (default 0.67). */
  shortLineThreshold?: number;
  shortLineLength?: number;
  /** Max duplicated-line chars / chars (default 0.01). */
  charDuplicatesRatio?: number;
  /** Max newlines / words (default 0.3). */
  newLineRatio?: number;
}

const STOP_CHARS = ['.', "'", '"', '!', '?'];

export function finewebStage(options: FinewebOptions = {}): CleaningStage {
  const o = {
    linePunctThreshold: 0.12,
    linePunctExcludeZero: false,
    shortLineThreshold: 0.67,
    shortLineLength: 30,
    charDuplicatesRatio: 0.01,
    newLineRatio: 0.3,
    ...options,
  };
  return {
    name: 'fineweb',
    apply(doc: Document): StageResult {
      const lines = doc.text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length === 0) return reject('fineweb_empty');
      const punct =
        lines.filter((l) => STOP_CHARS.some((c) => l.endsWith(c))).length / lines.length;
      if (punct < o.linePunctThreshold && !(punct === 0 && o.linePunctExcludeZero)) {
        return reject('line_punct_ratio', punct.toFixed(3));
      }
      const short = lines.filter((l) => l.length <= o.shortLineLength).length / lines.length;
      if (short > o.shortLineThreshold) return reject('short_line_ratio', short.toFixed(3));
      const { chars } = findDuplicates(lines);
      const nonNewline = doc.text.length - (doc.text.match(/\n/g)?.length ?? 0);
      if (chars / Math.max(1, nonNewline) > o.charDuplicatesRatio) return reject('char_dup_ratio');
      const words = countWords(doc.text);
      const newlines = doc.text.split('\n').length - 1;
      if (newlines / Math.max(1, words) > o.newLineRatio) return reject('list_ratio');
      return doc;
    },
  };
}
