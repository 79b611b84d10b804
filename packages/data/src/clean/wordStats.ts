import { WORD_ALNUM, WORD_CONTROL, WORD_LETTER, WORD_NON_ASCII, scanWords } from './wordScan.js';

/** Per-document word statistics for the Gopher quality rules. */
export interface WordStats {
  words: number;
  /** Words not made only of punctuation/symbols, and their total length. */
  nonSymbol: number;
  nonSymbolChars: number;
  /** Words containing a letter. */
  alpha: number;
  /** Stop words seen, counted up to `maxStops`. */
  stops: number;
}

/**
 * Classifies the whitespace-separated words of the (shared, cached) word scan by their
 * character kinds; a Unicode regex runs only on words with non-ASCII or control characters,
 * and words are sliced out only for those and for stop-word candidates.
 */
export function wordStats(
  text: string,
  stopWords: Set<string>,
  maxStops: number,
  maxStopLength: number,
): WordStats {
  const scan = scanWords(text);
  const { starts, lengths, kinds } = scan;
  const out: WordStats = { words: scan.count, nonSymbol: 0, nonSymbolChars: 0, alpha: 0, stops: 0 };
  for (let w = 0; w < scan.count; w++) {
    const kind = kinds[w]!;
    const length = lengths[w]!;
    const special = (kind & (WORD_NON_ASCII | WORD_CONTROL)) !== 0;
    const stopCandidate = out.stops < maxStops && length <= maxStopLength;
    const word = special || stopCandidate ? text.slice(starts[w]!, starts[w]! + length) : '';
    const symbol = (kind & WORD_ALNUM) !== 0 ? false : special ? PUNCT_OR_SYMBOL.test(word) : true;
    if (!symbol) {
      out.nonSymbol++;
      out.nonSymbolChars += length;
    }
    if ((kind & WORD_LETTER) !== 0 || ((kind & WORD_NON_ASCII) !== 0 && LETTER.test(word)))
      out.alpha++;
    if (stopCandidate && stopWords.has(word.toLowerCase())) out.stops++;
  }
  return out;
}

const PUNCT_OR_SYMBOL = /^[\p{P}\p{S}]+$/u;
const LETTER = /\p{L}/u;
