import { ServingError } from '../errors.js';
import type { ChatMessage, TextTokenizer } from '../engine/languageModel.js';

export interface ChatPromptOptions {
  tokenizer: TextTokenizer;
  messages: ReadonlyArray<ChatMessage>;
  /** Most prompt tokens allowed (context window minus the tokens reserved for the reply). */
  maxPromptTokens: number;
}

/**
 * Renders the chat template, dropping the oldest non-system turns until the prompt fits
 * (system messages and the latest turn are always kept). Binary search over how many
 * turns to drop, since fit is monotone in it. Throws a 400 when even the last turn alone
 * does not fit.
 */
export function buildChatPrompt(options: ChatPromptOptions): { tokens: number[]; droppedMessages: number } {
  const { tokenizer, messages, maxPromptTokens } = options;
  const droppable = messages.map((m, i) => (m.role === 'system' || m.role === 'developer' ? -1 : i)).filter((i) => i >= 0);
  droppable.pop(); // the latest turn always stays
  const render = (drop: number) => {
    const dropped = new Set(droppable.slice(0, drop));
    return tokenizer.encode(tokenizer.renderChat(messages.filter((_, i) => !dropped.has(i))));
  };
  const full = render(0);
  if (full.length <= maxPromptTokens) return { tokens: full, droppedMessages: 0 };
  let lo = 1;
  let hi = droppable.length;
  let best: number[] | undefined;
  let bestDrop = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const tokens = render(mid);
    if (tokens.length <= maxPromptTokens) {
      best = tokens;
      bestDrop = mid;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  if (!best) {
    throw new ServingError(
      `the conversation needs ${render(droppable.length).length} prompt tokens even with only the system messages and the latest turn; the limit is ${maxPromptTokens}`,
      { code: 'context_length_exceeded', context: { status: 400, type: 'invalid_request_error', param: 'messages' } },
    );
  }
  return { tokens: best, droppedMessages: bestDrop };
}

/**
 * The DeepSeek-V3 chat format, used when a tokenizer carries no template of its own:
 * `<｜begin▁of▁sentence｜>{system}<｜User｜>{u}<｜Assistant｜>{a}<｜end▁of▁sentence｜>…<｜Assistant｜>`.
 */
export function deepseekChatTemplate(messages: ReadonlyArray<ChatMessage>): string {
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content);
  let out = `<｜begin▁of▁sentence｜>${system.join('\n\n')}`;
  for (const m of messages) {
    if (m.role === 'user' || m.role === 'tool') out += `<｜User｜>${m.content}`;
    else if (m.role === 'assistant') out += `<｜Assistant｜>${m.content}<｜end▁of▁sentence｜>`;
  }
  return `${out}<｜Assistant｜>`;
}
