import type { Tokenizer } from '@deepline/tokenizer';
import type { ChatMessage, TextTokenizer } from '../engine/languageModel.js';
import { deepseekChatTemplate } from '../http/chatPrompt.js';

type WithChatTemplate = Tokenizer & { applyChatTemplate?: (messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }) => string };

/**
 * Adapts a @deepline/tokenizer Tokenizer to the server: specials are skipped when
 * decoding, EOS stops generation, and chat prompts use the tokenizer's own template when
 * it can render one (else the DeepSeek-V3 format).
 */
export function tokenizerAdapter(tokenizer: Tokenizer): TextTokenizer {
  const t = tokenizer as WithChatTemplate;
  const eos = tokenizer.eosTokenId;
  return {
    encode: (text) => tokenizer.encode(text),
    // Models often pad the embedding past the tokenizer's vocabulary; those rows decode to nothing.
    decode: (ids) => tokenizer.decode(ids.some((id) => id >= tokenizer.vocabSize) ? ids.filter((id) => id < tokenizer.vocabSize) : ids, { skipSpecialTokens: true }),
    stopTokenIds: eos === undefined ? [] : [eos],
    renderChat: (messages) =>
      typeof t.applyChatTemplate === 'function' && tokenizer.meta.chatTemplate
        ? t.applyChatTemplate([...messages], { addGenerationPrompt: true })
        : deepseekChatTemplate(messages),
  };
}
