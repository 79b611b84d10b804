import { DataError } from '../errors.js';
import type { Document, TextTokenizer } from '../types.js';
import { type CleaningStage, type StageResult, reject } from './stage.js';

export interface TokenLengthOptions {
  tokenizer: TextTokenizer;
  /** Wanted length in tokens (default 512). */
  target?: number;
  /** Allowed deviation: documents must end up within target ± tolerance (default 64). */
  tolerance?: number;
  /** Split documents longer than target + tolerance at sentence boundaries (default true); otherwise reject them. */
  split?: boolean;
}

/**
 * Length control in tokens. Short documents are rejected; long ones are cut at sentence (then
 * word) boundaries into chunks of about `target` tokens, and chunks that would fall outside
 * the window (typically the tail) are dropped. Chunk ids are `<id>#<k>`.
 */
export function tokenLengthStage(options: TokenLengthOptions): CleaningStage {
  const target = options.target ?? 512;
  const tolerance = options.tolerance ?? 64;
  if (!(target > 0) || !(tolerance >= 0) || tolerance >= target) {
    throw new DataError(`token length window ${target} ± ${tolerance} is invalid`, {
      code: 'BAD_OPTION',
      context: { field: 'tokenLength' },
    });
  }
  const min = target - tolerance;
  const max = target + tolerance;
  const count = (text: string) => options.tokenizer.encode(text).length;
  return {
    name: 'token_length',
    apply(doc: Document): StageResult {
      const n = count(doc.text);
      if (n < min) return reject('too_few_tokens', `${n} < ${min}`);
      if (n <= max) return doc;
      if (options.split === false) return reject('too_many_tokens', `${n} > ${max}`);
      const chunks = packWords(words(doc.text, count), target, min, max);
      const docs: Document[] = [];
      for (const chunk of chunks) {
        const tokens = count(chunk);
        if (tokens >= min && tokens <= max)
          docs.push({ ...doc, id: `${doc.id}#${docs.length}`, text: chunk });
      }
      return docs.length > 0 ? docs : reject('no_chunk_in_window', `${n} tokens`);
    },
  };
}

interface Word {
  text: string;
  tokens: number;
  endsSentence: boolean;
}

/** Words with their token counts (each counted with its leading space, as it appears mid-text). */
function words(text: string, count: (t: string) => number): Word[] {
  return text
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w, i) => ({
      text: w,
      tokens: count(i === 0 ? w : ` ${w}`),
      endsSentence: /[.!?]["')\]]?$/.test(w),
    }));
}

/**
 * Packs words into chunks: a chunk closes at the first sentence end at or past `target`; if
 * the next word would pass `max`, it closes at the last sentence end that kept it at least
 * `min` long, or else right there (mid-sentence).
 */
function packWords(items: Word[], target: number, min: number, max: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  let tokens = 0;
  let lastEnd = -1;
  let tokensAtLastEnd = 0;
  const close = (end: number) => {
    chunks.push(
      items
        .slice(start, end)
        .map((w) => w.text)
        .join(' '),
    );
    start = end;
  };
  for (let i = 0; i < items.length; i++) {
    const w = items[i]!;
    if (tokens + w.tokens > max && i > start) {
      const cut = lastEnd > start ? lastEnd : i;
      tokens = cut === lastEnd ? tokens - tokensAtLastEnd : 0;
      close(cut);
      lastEnd = -1;
    }
    tokens += w.tokens;
    if (w.endsSentence && tokens >= min) {
      lastEnd = i + 1;
      tokensAtLastEnd = tokens;
    }
    if (w.endsSentence && tokens >= target) {
      close(i + 1);
      tokens = 0;
      lastEnd = -1;
    }
  }
  if (start < items.length) close(items.length);
  return chunks;
}
