import type { Engine, FinishReason, GenerationEvent, GenerationRequest } from '../engine/engine.js';
import { ServingError } from '../errors.js';

/** One choice of a response: which prompt it continues and what it produced. */
export interface ChoiceResult {
  index: number;
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export interface ChoiceDelta {
  index: number;
  text: string;
  finishReason?: FinishReason;
}

/**
 * Runs several generation requests at once (prompts × n) and merges their events in
 * arrival order. `onDelta` sees each piece of text as it is produced.
 */
export async function runChoices(options: {
  engine: Engine;
  requests: GenerationRequest[];
  onDelta?: (delta: ChoiceDelta) => void;
}): Promise<ChoiceResult[]> {
  const streams: AsyncIterableIterator<GenerationEvent>[] = [];
  try {
    // If a later submission is refused (queue full), the ones already queued are cancelled.
    for (const r of options.requests) streams.push(options.engine.generate(r));
  } catch (error) {
    for (const s of streams) void s.return?.();
    throw error;
  }
  try {
    return await Promise.all(
      streams.map(async (stream, index) => {
        const tokens: number[] = [];
        for await (const event of stream as AsyncIterable<GenerationEvent>) {
          if (event.type === 'token') {
            tokens.push(event.token);
            if (event.text) options.onDelta?.({ index, text: event.text });
          } else {
            options.onDelta?.({ index, text: '', finishReason: event.reason });
            return { index, text: event.text, tokens, finishReason: event.reason, promptTokens: event.promptTokens, completionTokens: event.completionTokens };
          }
        }
        throw new ServingError('generation ended early', { code: 'internal', context: { status: 500, type: 'server_error' } });
      }),
    );
  } catch (error) {
    for (const s of streams) void s.return?.();
    throw error;
  }
}

/** OpenAI's finish_reason for an engine reason (aborts never reach a client). */
export function openAiFinishReason(reason: FinishReason): 'stop' | 'length' | 'content_filter' {
  return reason === 'length' ? 'length' : reason === 'content_filter' ? 'content_filter' : 'stop';
}
