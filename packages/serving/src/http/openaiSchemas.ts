import { z } from 'zod';
import { invalidRequest } from '../errors.js';

const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();
const streamOptions = z.object({ include_usage: z.boolean().nullish() }).nullish();

/** Sampling and length fields shared by both endpoints (OpenAI names plus vLLM's extras). */
const common = {
  model: z.string().min(1),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  top_k: z.number().int().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  repetition_penalty: z.number().nullish(),
  seed: z.number().int().nullish(),
  stop,
  stop_token_ids: z.array(z.number().int().nonnegative()).nullish(),
  ignore_eos: z.boolean().nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  user: z.string().nullish(),
};

export const completionRequestSchema = z.object({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]),
  echo: z.boolean().nullish(),
});

const contentPart = z.object({ type: z.literal('text'), text: z.string() });
const chatMessage = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: z.string().nullish(),
});

export const chatRequestSchema = z.object({
  ...common,
  messages: z.array(chatMessage).min(1),
  max_completion_tokens: z.number().int().positive().nullish(),
});

export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Validates a parsed JSON body; the first issue becomes a 400 naming its field path. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('request body must be a JSON object', null);
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && (body as Record<string, unknown>)[String(issue.path[0])] === undefined && issue.path.length === 1;
  const message = missing ? `'${path}' is a required property` : `invalid value for '${path || 'body'}': ${issue.message}`;
  throw invalidRequest(message, path || null);
}
