import { Template } from '@huggingface/jinja';
import { TokenizerError } from './errors.js';

/** One chat turn, as chat templates expect it. */
export interface ChatMessage {
  role: string;
  content: string | null;
  [key: string]: unknown;
}

export interface RenderChatOptions {
  /** Append the prompt that starts the assistant's reply. Default false. */
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
  /** Extra template variables (e.g. tools). */
  variables?: Record<string, unknown>;
}

/** DeepSeek-V3's special tokens for chat, in the order a trained tokenizer should reserve them. */
export const DEEPSEEK_SPECIAL_TOKENS: readonly string[] = [
  '<｜begin▁of▁sentence｜>',
  '<｜end▁of▁sentence｜>',
  '<｜▁pad▁｜>',
  '<｜User｜>',
  '<｜Assistant｜>',
  '<｜tool▁output▁begin｜>',
  '<｜tool▁output▁end｜>',
];

/**
 * Built-in DeepSeek-style template: BOS, system prompts joined by blank lines, then
 * `<｜User｜>…` and `<｜Assistant｜>…<｜end▁of▁sentence｜>` turns, tool outputs wrapped in
 * their markers, and `<｜Assistant｜>` as the generation prompt.
 */
export const DEEPSEEK_CHAT_TEMPLATE = [
  '{%- set ns = namespace(first=true) -%}',
  '{{- bos_token -}}',
  "{%- for message in messages -%}{%- if message['role'] == 'system' -%}",
  "{%- if not ns.first -%}{{- '\\n\\n' -}}{%- endif -%}{{- message['content'] -}}{%- set ns.first = false -%}",
  '{%- endif -%}{%- endfor -%}',
  '{%- for message in messages -%}',
  "{%- if message['role'] == 'user' -%}{{- '<｜User｜>' + message['content'] -}}",
  "{%- elif message['role'] == 'assistant' -%}{{- '<｜Assistant｜>' + message['content'] + eos_token -}}",
  "{%- elif message['role'] == 'tool' -%}{{- '<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>' -}}",
  '{%- endif -%}{%- endfor -%}',
  "{%- if add_generation_prompt -%}{{- '<｜Assistant｜>' -}}{%- endif -%}",
].join('');

const compiled = new Map<string, Template>();

/** Renders a Jinja chat template (tokenizer_config.json `chat_template`) with @huggingface/jinja. */
export function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  options: RenderChatOptions = {},
): string {
  if (!Array.isArray(messages))
    throw new TokenizerError('messages must be an array of {role, content}', {
      code: 'TOKENIZER_BAD_OPTION',
      context: { field: 'messages' },
    });
  messages.forEach((m, i) => {
    if (!m || typeof m.role !== 'string')
      throw new TokenizerError(`messages[${i}].role must be a string`, {
        code: 'TOKENIZER_BAD_OPTION',
        context: { field: `messages[${i}].role` },
      });
  });
  let t = compiled.get(template);
  try {
    if (!t) {
      t = new Template(template);
      compiled.set(template, t);
    }
    return t.render({
      ...options.variables,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: options.bosToken ?? '',
      eos_token: options.eosToken ?? '',
    });
  } catch (error) {
    throw new TokenizerError(`chat template failed: ${(error as Error).message}`, {
      code: 'TOKENIZER_CHAT_TEMPLATE',
      context: { field: 'chat_template' },
      cause: error,
    });
  }
}
