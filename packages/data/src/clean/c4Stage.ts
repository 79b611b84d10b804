import type { Document } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';

/** C4 rules (Raffel et al. 2020, as in datatrove's C4QualityFilter); every switch defaults on. */
export interface C4Options {
  /** Drop lines that do not end in `. ? ! " '` (or end in `...`). */
  filterNoTerminalPunct?: boolean;
  /** Minimum words per kept line (default 3). */
  minWordsPerLine?: number;
  /** Drop a line containing a longer word (default 1000). */
  maxWordLength?: number;
  /** Minimum sentences in the kept text (default 5). */
  minSentences?: number;
  /** Strip Wikipedia-style `[1]`, `[edit]`, `[citation needed]`. */
  removeCitations?: boolean;
  /** Drop lines mentioning "javascript". */
  filterJavascript?: boolean;
  /** Drop lines with cookie / terms-of-use boilerplate. */
  filterPolicy?: boolean;
  /** Reject documents containing "lorem ipsum". */
  filterLoremIpsum?: boolean;
  /** Reject documents containing `{` (code). */
  filterCurlyBracket?: boolean;
}

const END_PUNCT = ['.', '?', '!', '"', "'"];
const POLICY = /terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies/i;
const LOREM = /lorem ipsum/i;
const JAVASCRIPT = /javascript/i;
const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;

/** Line-level C4 cleaning plus its document-level rejections. */
export function c4Stage(options: C4Options = {}): CleaningStage {
  const o = {
    filterNoTerminalPunct: true,
    minWordsPerLine: 3,
    maxWordLength: 1000,
    minSentences: 5,
    removeCitations: true,
    filterJavascript: true,
    filterPolicy: true,
    filterLoremIpsum: true,
    filterCurlyBracket: true,
    ...options,
  };
  return {
    name: 'c4',
    apply(doc: Document): StageResult {
      const kept: string[] = [];
      for (const rawLine of doc.text.split('\n')) {
        let line = rawLine.trim();
        if (line === '') continue;
        if (o.filterLoremIpsum && LOREM.test(line)) return reject('c4_lorem_ipsum');
        if (o.filterCurlyBracket && line.includes('{')) return reject('c4_curly_bracket');
        if (o.removeCitations) line = line.replace(CITATION, '');
        if (
          o.filterNoTerminalPunct &&
          (!END_PUNCT.some((p) => line.endsWith(p)) || line.endsWith('...'))
        )
          continue;
        const { words, longest } = wordShape(line);
        if (words < o.minWordsPerLine) continue;
        if (longest > o.maxWordLength) continue;
        if (o.filterJavascript && JAVASCRIPT.test(line)) continue;
        if (o.filterPolicy && POLICY.test(line)) continue;
        kept.push(line);
      }
      if (kept.length === 0) return reject('c4_no_lines_left');
      const text = kept.join('\n');
      const sentences = countSentences(text);
      if (sentences < o.minSentences)
        return reject('c4_too_few_sentences', `${sentences} < ${o.minSentences}`);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}

/** Sentences = runs of text ending in `.`, `!` or `?` (plus closing quotes) followed by whitespace or the end. Linear scan. */
export function countSentences(text: string): number {
  let count = 0;
  let hasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 33 || c === 63) {
      let j = i + 1;
      while (j < text.length && isTerminal(text.charCodeAt(j))) j++;
      while (j < text.length && (text.charCodeAt(j) === 34 || text.charCodeAt(j) === 39)) j++;
      if (hasContent && (j === text.length || isSpace(text.charCodeAt(j)))) {
        count++;
        hasContent = false;
      }
      i = j - 1;
    } else if (!isSpace(c)) hasContent = true;
  }
  return count;
}

/** Word count and longest word of a line, without splitting it. */
function wordShape(line: string): { words: number; longest: number } {
  let words = 0;
  let longest = 0;
  let run = 0;
  for (let i = 0; i <= line.length; i++) {
    if (i === line.length || isSpace(line.charCodeAt(i))) {
      if (run > 0) {
        words++;
        if (run > longest) longest = run;
      }
      run = 0;
    } else run++;
  }
  return { words, longest };
}

function isTerminal(c: number): boolean {
  return c === 46 || c === 33 || c === 63;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xa0;
}
