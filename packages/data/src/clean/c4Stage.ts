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
const POLICY = ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'];
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
        const lower = line.toLowerCase();
        if (o.filterLoremIpsum && lower.includes('lorem ipsum')) return reject('c4_lorem_ipsum');
        if (o.filterCurlyBracket && line.includes('{')) return reject('c4_curly_bracket');
        if (o.removeCitations) line = line.replace(CITATION, '');
        if (o.filterNoTerminalPunct && (!END_PUNCT.some((p) => line.endsWith(p)) || line.endsWith('...'))) continue;
        const words = line.split(/\s+/);
        if (words.length < o.minWordsPerLine) continue;
        if (words.some((w) => w.length > o.maxWordLength)) continue;
        if (o.filterJavascript && lower.includes('javascript')) continue;
        if (o.filterPolicy && POLICY.some((p) => lower.includes(p))) continue;
        kept.push(line);
      }
      if (kept.length === 0) return reject('c4_no_lines_left');
      const text = kept.join('\n');
      const sentences = countSentences(text);
      if (sentences < o.minSentences) return reject('c4_too_few_sentences', `${sentences} < ${o.minSentences}`);
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}

/** Sentences = runs ending in . ! or ? followed by whitespace or the end. */
export function countSentences(text: string): number {
  const matches = text.match(/[^.!?]*[^.!?\s][^.!?]*[.!?]+(?=\s|$|["'])/g);
  return matches ? matches.length : 0;
}
