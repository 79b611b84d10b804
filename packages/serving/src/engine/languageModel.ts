/**
 * The model surface the engine schedules against. A sequence owns its KV cache; `decode`
 * advances many sequences (each at its own position) by one token in a single batched
 * forward pass — that is what makes continuous batching pay off.
 */
export interface LanguageModel {
  /** Logits width. */
  readonly vocabSize: number;
  /** Longest sequence (prompt + generated) the model supports. */
  readonly contextLength: number;
  /** KV-cache bytes one cached token costs (drives the engine's memory budget). */
  readonly kvBytesPerToken: number;
  /** A fresh, empty per-sequence state. */
  createSequence(): ModelSequence;
  /**
   * Feeds prompt tokens (a whole prompt or a chunk of one) to several sequences in one
   * batched pass; returns the next-token output after each chunk's last token, in order.
   */
  prefill(chunks: ReadonlyArray<PrefillChunk>): Promise<NextToken[]>;
  /**
   * Appends one token to each sequence in a single batched step and returns the next-token
   * output of each, in order.
   */
  decode(steps: ReadonlyArray<DecodeStep>): Promise<NextToken[]>;
  /**
   * Optional: prompt chunks and decode steps in one batched pass (what `prefill` then
   * `decode` would return, but one forward instead of two). The engine uses it when an
   * iteration has both, so arriving prompts join the running batch without a pass of their own.
   */
  step?(chunks: ReadonlyArray<PrefillChunk>, steps: ReadonlyArray<DecodeStep>): Promise<{ prefill: NextToken[]; decode: NextToken[] }>;
}

/** Per-sequence state (its KV cache) that the model owns. */
export interface ModelSequence {
  /** Tokens cached so far. */
  readonly length: number;
  /** Frees the cache; the sequence is unusable afterwards. */
  dispose(): void;
}

/**
 * A row's next-token output: its logits (read-only, valid until the next call), or, for a
 * row marked `greedy`, possibly just the id of its largest logit (lowest id on ties), which
 * spares reading the logits back.
 */
export type NextToken = Float32Array | number;

export interface PrefillChunk {
  sequence: ModelSequence;
  tokens: readonly number[];
  /** Only the argmax of the next-token logits is needed. */
  greedy?: boolean;
}

export interface DecodeStep {
  sequence: ModelSequence;
  token: number;
  /** Only the argmax of the next-token logits is needed. */
  greedy?: boolean;
}

/** The tokenizer surface the server needs (adapted from @deepline/tokenizer). */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Token ids that end generation (end-of-sequence and friends). */
  readonly stopTokenIds: readonly number[];
  /** Renders chat messages into a prompt that ends with the assistant's turn opener. */
  renderChat(messages: ReadonlyArray<ChatMessage>): string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'developer' | 'tool';
  content: string;
}
