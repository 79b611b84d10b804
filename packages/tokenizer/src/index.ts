export type { AddedTokenSpec } from './addedTokens.js';
export { BYTE_TO_CHAR, byteLevelToBytes, bytesToByteLevel } from './byteLevel.js';
export {
  type ChatMessage,
  DEEPSEEK_CHAT_TEMPLATE,
  DEEPSEEK_SPECIAL_TOKENS,
  type RenderChatOptions,
  renderChatTemplate,
} from './chatTemplate.js';
export { TokenizerError, type TokenizerErrorContext } from './errors.js';
export { type ParseTokenizerJsonOptions, parseTokenizerJson, tokenizerToJson } from './hfJson.js';
export {
  CL100K_PATTERN,
  compilePattern,
  DEEPSEEK_PATTERNS,
  GPT2_PATTERN,
  NAMED_PATTERNS,
  O200K_PATTERN,
  translatePattern,
} from './pattern.js';
export { StreamDecoder } from './streamDecoder.js';
export {
  loadTiktoken,
  TIKTOKEN_ENCODINGS,
  type TiktokenEncodingName,
  type TiktokenOptions,
  type TiktokenRankData,
  tiktokenFromRankData,
  tiktokenFromRawRanks,
} from './tiktoken.js';
export {
  type DecodeOptions,
  type EncodeOptions,
  type Encoding,
  type SpecialSelection,
  Tokenizer,
  type TokenizerMeta,
  type TokenizerParts,
} from './tokenizer.js';
export {
  preTokenizerForPattern,
  type TrainBpeOptions,
  type TrainProgress,
  trainBpe,
} from './trainer.js';
export { decodeUtf8, encodeUtf8 } from './utf8.js';
