import { type Tokenizer, TokenizerError } from '@deepline/tokenizer';
import type { ChatMessage, TextTokenizer } from '../engine/languageModel.js';
import { deepseekChatTemplate } from '../http/chatPrompt.js';

/**
 * Adapts a @deepline/tokenizer Tokenizer to the server: specials are skipped when
 * decoding, EOS stops generation, and chat prompts use the tokenizer's chat template (its
 * own `chat_template`, or the built-in DeepSeek one when the vocab has DeepSeek's chat
 * tokens). A tokenizer with neither gets the DeepSeek-V3 format as plain text.
 */
export function tokenizerAdapter(tokenizer: Tokenizer): TextTokenizer {
  const eos = tokenizer.eosTokenId;
  const vocab = tokenizer.vocabSize;
  return {
    encode: (text) => tokenizer.encode(text),
    // Models often pad the embedding past the tokenizer's vocabulary; those rows decode to nothing.
    decode: (ids) => tokenizer.decode(ids.some((id) => id >= vocab) ? ids.filter((id) => id < vocab) : ids, { skipSpecialTokens: true }),
    stopTokenIds: eos === undefined ? [] : [eos],
    renderChat: (messages) => renderChat(tokenizer, messages),
  };
}

function renderChat(tokenizer: Tokenizer, messages: ReadonlyArray<ChatMessage>): string {
  // Templates know system/user/assistant/tool; OpenAI's newer `developer` role is a system prompt.
  const turns = messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: m.content }));
  try {
    return tokenizer.applyChatTemplate(turns, { addGenerationPrompt: true });
  } catch (error) {
    if (error instanceof TokenizerError && error.code === 'TOKENIZER_CHAT_TEMPLATE') return deepseekChatTemplate(messages);
    throw error;
  }
}
