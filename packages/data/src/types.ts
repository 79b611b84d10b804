/** One text document flowing through the pipeline. */
export interface Document {
  /** Stable identifier (file path, JSONL id field, or `file:line`). */
  id: string;
  text: string;
  /** Extra fields carried along (e.g. a label used for stratified splits). */
  meta?: Record<string, unknown>;
  /** Where the document came from, for reports. */
  source?: { file: string; line?: number };
}

/**
 * The structural tokenizer contract this package needs. Any object with these members works:
 * @deepline/tokenizer's tokenizers, or a small test tokenizer.
 */
export interface TextTokenizer {
  /** Token ids of `text` (no special tokens added). */
  encode(text: string): ArrayLike<number>;
  /** Id written between packed documents; required by sharding and the loader. */
  eosTokenId?: number;
  vocabSize: number;
}
