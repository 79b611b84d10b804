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
   * batched pass; returns the logits after each chunk's last token, in order.
   */
  prefill(chunks: ReadonlyArray<PrefillChunk>): Promise<Float32Array[]>;
  /**
   * Appends one token to each sequence in a single batched step and returns the next-token
   * logits of each, in order.
   */
  decode(steps: ReadonlyArray<DecodeStep>): Promise<Float32Array[]>;
}

/** Per-sequence state (its KV cache) that the model owns. */
export interface ModelSequence {
  /** Tokens cached so far. */
  readonly length: number;
  /** Frees the cache; the sequence is unusable afterwards. */
  dispose(): void;
}

export interface PrefillChunk {
  sequence: ModelSequence;
  tokens: readonly number[];
}

export interface DecodeStep {
  sequence: ModelSequence;
  token: number;
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
