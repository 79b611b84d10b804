export {
  Tokenizer,
  StreamDecoder,
  type EncodeOptions,
  type DecodeOptions,
  type Encoding,
  type SpecialSelection,
  type TokenizerMeta,
  type TokenizerParts,
} from './tokenizer.js';
export { TokenizerError, type TokenizerErrorContext } from './errors.js';
export { parseTokenizerJson, tokenizerToJson, type ParseTokenizerJsonOptions } from './hfJson.js';
export {
  loadTiktoken,
  tiktokenFromRankData,
  tiktokenFromRawRanks,
  TIKTOKEN_ENCODINGS,
  type TiktokenEncodingName,
  type TiktokenOptions,
  type TiktokenRankData,
} from './tiktoken.js';
export {
  GPT2_PATTERN,
  CL100K_PATTERN,
  O200K_PATTERN,
  DEEPSEEK_PATTERNS,
  NAMED_PATTERNS,
  translatePattern,
  compilePattern,
} from './pattern.js';
export type { AddedTokenSpec } from './addedTokens.js';
export { BYTE_TO_CHAR, bytesToByteLevel, byteLevelToBytes } from './byteLevel.js';
export { encodeUtf8, decodeUtf8 } from './utf8.js';
export {
  trainBpe,
  preTokenizerForPattern,
  type TrainBpeOptions,
  type TrainProgress,
} from './trainer.js';
export {
  renderChatTemplate,
  DEEPSEEK_CHAT_TEMPLATE,
  DEEPSEEK_SPECIAL_TOKENS,
  type ChatMessage,
  type RenderChatOptions,
} from './chatTemplate.js';
