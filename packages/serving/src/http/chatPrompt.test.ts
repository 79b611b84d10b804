import { DEEPSEEK_CHAT_TEMPLATE, renderChatTemplate } from '@deepline/tokenizer';
import { describe, expect, it } from 'vitest';
import type { ChatMessage, TextTokenizer } from '../engine/languageModel.js';
import { ServingError } from '../errors.js';
import { buildChatPrompt, deepseekChatTemplate } from './chatPrompt.js';

const messages: ChatMessage[] = [
  { role: 'system', content: 'S1' },
  { role: 'user', content: 'u1' },
  { role: 'assistant', content: 'a1' },
  { role: 'system', content: 'S2' },
  { role: 'user', content: 'u2' },
];

// One token per character: prompt length is the rendered text's length.
const charTokenizer: TextTokenizer = {
  encode: (text) => Array.from(text, (c) => c.codePointAt(0)!),
  decode: (ids) => String.fromCodePoint(...ids),
  stopTokenIds: [],
  renderChat: deepseekChatTemplate,
};

describe('chat prompts', () => {
  it('the fallback template renders like the tokenizer package DeepSeek template', () => {
    const bos = '<｜begin▁of▁sentence｜>';
    const eos = '<｜end▁of▁sentence｜>';
    expect(deepseekChatTemplate(messages)).toBe(renderChatTemplate(DEEPSEEK_CHAT_TEMPLATE, messages.map((m) => ({ ...m })), { bosToken: bos, eosToken: eos, addGenerationPrompt: true }));
  });

  it('drops the oldest non-system turns first and keeps system prompts and the last turn', () => {
    const full = charTokenizer.encode(deepseekChatTemplate(messages)).length;
    expect(buildChatPrompt({ tokenizer: charTokenizer, messages, maxPromptTokens: full }).droppedMessages).toBe(0);
    const r = buildChatPrompt({ tokenizer: charTokenizer, messages, maxPromptTokens: full - 1 });
    expect(r.droppedMessages).toBe(1);
    expect(String.fromCodePoint(...r.tokens)).toBe(deepseekChatTemplate([messages[0]!, messages[2]!, messages[3]!, messages[4]!]));
    const minimal = deepseekChatTemplate([messages[0]!, messages[3]!, messages[4]!]).length;
    expect(buildChatPrompt({ tokenizer: charTokenizer, messages, maxPromptTokens: minimal }).droppedMessages).toBe(2);
    expect(() => buildChatPrompt({ tokenizer: charTokenizer, messages, maxPromptTokens: minimal - 1 })).toThrow(ServingError);
  });
});
