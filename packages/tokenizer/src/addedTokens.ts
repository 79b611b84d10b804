import { escapeRegExp } from './pattern.js';

/** One entry of tokenizer.json `added_tokens` (tiktoken special tokens map to special: true). */
export interface AddedTokenSpec {
  id: number;
  content: string;
  /** Special tokens obey allowed/disallowed policies and can be skipped when decoding. */
  special: boolean;
  /** Absorb whitespace on the left / right of the token into it. */
  lstrip?: boolean;
  rstrip?: boolean;
  /** Only match when not inside a word. */
  singleWord?: boolean;
  /** Matched against normalized text (true) or raw text (false); kept for round trips. */
  normalized?: boolean;
}

const WHITESPACE = /[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
// Rust's char::is_alphanumeric, which tokenizers uses for single_word.
const WORD = /[\p{Alphabetic}\p{N}]/u;

/**
 * Finds added tokens in text: leftmost, longest first (like tokenizers' Aho-Corasick), with
 * lstrip / rstrip / single_word honoured, and special tokens filtered by the caller's policy.
 */
export class AddedTokenMatcher {
  private readonly regex?: RegExp;
  private readonly byContent: Map<string, AddedTokenSpec>;

  constructor(readonly tokens: readonly AddedTokenSpec[]) {
    this.byContent = new Map(tokens.map((t) => [t.content, t]));
    const contents = tokens.map((t) => t.content).filter((c) => c.length > 0);
    contents.sort((a, b) => b.length - a.length);
    if (contents.length > 0) this.regex = new RegExp(contents.map(escapeRegExp).join('|'), 'gu');
  }

  /**
   * Walks text[0, length) and reports plain-text segments and added tokens in order.
   * `allowSpecial(content)` says whether a special token counts as a token here.
   */
  split(
    text: string,
    allowSpecial: (content: string) => boolean,
    onText: (start: number, end: number) => void,
    onToken: (token: AddedTokenSpec, start: number, end: number) => void,
  ): void {
    const regex = this.regex;
    if (!regex) {
      if (text.length > 0) onText(0, text.length);
      return;
    }
    let textStart = 0;
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const token = this.byContent.get(m[0])!;
      let start = m.index;
      let end = start + m[0].length;
      if (
        (token.special && !allowSpecial(token.content)) ||
        (token.singleWord && !isSingleWord(text, start, end))
      ) {
        regex.lastIndex = start + 1;
        continue;
      }
      if (token.lstrip) while (start > textStart && WHITESPACE.test(text[start - 1]!)) start--;
      if (token.rstrip) while (end < text.length && WHITESPACE.test(text[end]!)) end++;
      if (start > textStart) onText(textStart, start);
      onToken(token, start, end);
      textStart = end;
      regex.lastIndex = end;
    }
    if (textStart < text.length) onText(textStart, text.length);
  }

  /** First occurrence of any of `contents` in text, for disallowed-special checks. */
  static findAny(
    text: string,
    contents: readonly string[],
  ): { content: string; index: number } | undefined {
    if (contents.length === 0) return undefined;
    const sorted = [...contents].sort((a, b) => b.length - a.length);
    const m = new RegExp(sorted.map(escapeRegExp).join('|'), 'u').exec(text);
    return m ? { content: m[0], index: m.index } : undefined;
  }
}

function isSingleWord(text: string, start: number, end: number): boolean {
  const before = start > 0 ? text[start - 1]! : '';
  const after = end < text.length ? text[end]! : '';
  return !(before && WORD.test(before)) && !(after && WORD.test(after));
}
