import type { Document } from '../types.js';
import { findDuplicates } from './gopherRepetitionStage.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';
import { countWordsUpTo } from './textStats.js';

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
      const text = doc.text;
      const all = text.split('\n');
      const lines = all.filter((l) => l.trim() !== '');
      if (lines.length === 0) return reject('fineweb_empty');
      let punctLines = 0;
      let shortLines = 0;
      for (const l of lines) {
        const last = l.charCodeAt(l.length - 1);
        // STOP_CHARS: . ' " ! ?
        if (last === 46 || last === 39 || last === 34 || last === 33 || last === 63) punctLines++;
        if (l.length <= o.shortLineLength) shortLines++;
      }
      const punct = punctLines / lines.length;
      if (punct < o.linePunctThreshold && !(punct === 0 && o.linePunctExcludeZero)) {
        return reject('line_punct_ratio', punct.toFixed(3));
      }
      const short = shortLines / lines.length;
      if (short > o.shortLineThreshold) return reject('short_line_ratio', short.toFixed(3));
      const { chars } = findDuplicates(lines);
      const newlines = all.length - 1;
      const nonNewline = text.length - newlines;
      if (chars / Math.max(1, nonNewline) > o.charDuplicatesRatio) return reject('char_dup_ratio');
      // Only whether newlines / words exceeds the ratio matters: count words until it cannot.
      const words = countWordsUpTo(text, wordsNeeded(newlines, o.newLineRatio));
      if (newlines / Math.max(1, words) > o.newLineRatio) return reject('list_ratio');
      return doc;
    },
  };
}

/** The least word count w with newlines / max(1, w) ≤ ratio (Infinity when none). */
function wordsNeeded(newlines: number, ratio: number): number {
  if (newlines / 1 <= ratio) return 1;
  if (!(ratio > 0)) return Number.POSITIVE_INFINITY;
  let w = Math.max(1, Math.ceil(newlines / ratio));
  while (w > 1 && newlines / (w - 1) <= ratio) w--;
  while (newlines / w > ratio) w++;
  return w;
}
