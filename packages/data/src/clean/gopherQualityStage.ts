import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';
import { isWhitespace } from './textStats.js';
import { wordStats } from './wordStats.js';

/** Gopher quality rules (Rae et al. 2021; datatrove GopherQualityFilter defaults). */
export interface GopherQualityOptions {
  minDocWords?: number;
  maxDocWords?: number;
  minAvgWordLength?: number;
  maxAvgWordLength?: number;
  /** Max ratio of `#` (and separately of ellipses) to words. */
  maxSymbolWordRatio?: number;
  maxBulletLinesRatio?: number;
  maxEllipsisLinesRatio?: number;
  /** Min fraction of words containing a letter. */
  minAlphaWordsRatio?: number;
  minStopWords?: number;
  stopWords?: string[];
}

const DEFAULT_STOP_WORDS = ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'];

export function gopherQualityStage(options: GopherQualityOptions = {}): CleaningStage {
  const o = {
    minDocWords: 50,
    maxDocWords: 100_000,
    minAvgWordLength: 3,
    maxAvgWordLength: 10,
    maxSymbolWordRatio: 0.1,
    maxBulletLinesRatio: 0.9,
    maxEllipsisLinesRatio: 0.3,
    minAlphaWordsRatio: 0.8,
    minStopWords: 2,
    ...options,
  };
  const stopWords = new Set(options.stopWords ?? DEFAULT_STOP_WORDS);
  const maxStopLength = Math.max(0, ...[...stopWords].map((w) => w.length));
  return {
    name: 'gopher_quality',
    apply(doc: Document): StageResult {
      const text = doc.text;
      const stats = wordStats(text, stopWords, o.minStopWords, maxStopLength);
      const { nonSymbol, nonSymbolChars, alpha } = stats;
      const stop = stats.stops;
      const words = { length: stats.words };
      if (nonSymbol < o.minDocWords) return reject('gopher_short_doc', `${nonSymbol} words`);
      if (nonSymbol > o.maxDocWords) return reject('gopher_long_doc', `${nonSymbol} words`);
      const avg = nonSymbolChars / nonSymbol;
      if (avg < o.minAvgWordLength) return reject('gopher_below_avg_word_length', avg.toFixed(2));
      if (avg > o.maxAvgWordLength) return reject('gopher_above_avg_word_length', avg.toFixed(2));
      const hashes = count(text, '#');
      if (hashes / words.length > o.maxSymbolWordRatio) return reject('gopher_too_many_hashes');
      const ellipses = count(text, '...') + count(text, '\u2026');
      if (ellipses / words.length > o.maxSymbolWordRatio) return reject('gopher_too_many_ellipsis');
      const { lines, bullets, endEllipsis } = bulletAndEllipsisLines(text);
      if (bullets / lines > o.maxBulletLinesRatio) return reject('gopher_too_many_bullets');
      if (endEllipsis / lines > o.maxEllipsisLinesRatio)
        return reject('gopher_too_many_end_ellipsis');
      if (alpha / words.length < o.minAlphaWordsRatio)
        return reject('gopher_below_alpha_threshold');
      if (stop < o.minStopWords) return reject('gopher_enough_stop_words', `${stop} stop words`);
      return doc;
    },
  };
}

/**
 * Lines (`split('\n')`), lines starting with `•` or `-` and lines ending in `...` or `…`,
 * ignoring surrounding whitespace (trimStart / trimEnd), without splitting or trimming.
 */
function bulletAndEllipsisLines(text: string): {
  lines: number;
  bullets: number;
  endEllipsis: number;
} {
  let lines = 0;
  let bullets = 0;
  let endEllipsis = 0;
  let pos = 0;
  for (;;) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = text.length;
    lines++;
    let a = pos;
    while (a < end && isWhitespace(text.charCodeAt(a))) a++;
    if (a < end) {
      const first = text.charCodeAt(a);
      if (first === 0x2022 || first === 45) bullets++;
      let b = end;
      while (b > a && isWhitespace(text.charCodeAt(b - 1))) b--;
      const last = text.charCodeAt(b - 1);
      if (
        last === 0x2026 ||
        (last === 46 &&
          b - a >= 3 &&
          text.charCodeAt(b - 2) === 46 &&
          text.charCodeAt(b - 3) === 46)
      )
        endEllipsis++;
    }
    if (end === text.length) break;
    pos = end + 1;
  }
  return { lines, bullets, endEllipsis };
}

function count(text: string, needle: string): number {
  let n = 0;
  let i = text.indexOf(needle);
  while (i !== -1) {
    n++;
    i = text.indexOf(needle, i + needle.length);
  }
  return n;
}
