export { DataError, type DataErrorContext } from './errors.js';
export type { Document, TextTokenizer } from './types.js';
export {
  DataReport,
  type DataReportJSON,
  type DataReportOptions,
  type CorruptKind,
  type CorruptRecord,
  type StageStats,
} from './report.js';
export {
  readDocuments,
  detectFormat,
  type ReadDocumentsOptions,
  type InputFormat,
} from './readers/readDocuments.js';
export { expandInputs, globToRegExp } from './readers/expandInputs.js';
export { readJsonl } from './readers/readJsonl.js';
export { readText, type TextUnit } from './readers/readText.js';
export { readCsv } from './readers/readCsv.js';
export { readParquet } from './readers/readParquet.js';
export { readArrow } from './readers/readArrow.js';
export type { FieldSelection } from './readers/recordToDocument.js';
export type { InvalidUtf8Policy } from './readers/decodeLine.js';
export {
  cleanConfigSchema,
  dedupConfigSchema,
  type CleanConfig,
  type CleanConfigInput,
  type DedupConfig,
  type DedupConfigInput,
} from './config.js';
export {
  type CleaningStage,
  type StageResult,
  type StageRejection,
  reject,
  isRejection,
} from './clean/stage.js';
export { Cleaner } from './clean/cleaner.js';
export { createCleaner, type CreateCleanerOptions } from './clean/createCleaner.js';
export { buildTextStages } from './clean/buildTextStages.js';
export { normalizeStage, type NormalizeOptions } from './clean/normalizeStage.js';
export { invalidCharsStage, type InvalidCharsOptions } from './clean/invalidCharsStage.js';
export { c4Stage, countSentences, type C4Options } from './clean/c4Stage.js';
export { gopherQualityStage, type GopherQualityOptions } from './clean/gopherQualityStage.js';
export {
  gopherRepetitionStage,
  type GopherRepetitionOptions,
} from './clean/gopherRepetitionStage.js';
export { finewebStage, type FinewebOptions } from './clean/finewebStage.js';
export { piiStage, type PiiOptions } from './clean/piiStage.js';
export { languageStage, loadLanguageModel, type LanguageOptions } from './clean/languageStage.js';
export { loadFastTextModel, type LoadFastTextModelOptions } from './clean/fastTextLoad.js';
export { lidModelPath } from './clean/fastTextLid.js';
export type { FastTextModel, FastTextPrediction } from './clean/fastTextModel.js';
export { tokenLengthStage, type TokenLengthOptions } from './clean/tokenLengthStage.js';
export { Deduplicator, type DedupOptions, type DedupKeys } from './dedup/deduplicator.js';
export {
  createMinHasher,
  estimateJaccard,
  candidateProbability,
  type MinHasher,
  type MinHashOptions,
} from './dedup/minhash.js';
export { dedupWords, exactKey } from './dedup/dedupText.js';
export { cleanAndDedup, defaultWorkers, type CleanAndDedupOptions } from './cleanAndDedup.js';
export { writeShards, type WriteShardsOptions } from './shards/writeShards.js';
export { SplitAssigner } from './shards/splitAssigner.js';
export {
  readManifest,
  manifestSchema,
  MANIFEST_FILE,
  type ShardManifest,
  type ShardEntry,
} from './shards/manifest.js';
export {
  encodeShard,
  decodeShard,
  readShardFile,
  type ShardContents,
} from './shards/shardTable.js';
export {
  TokenLoader,
  createLoader,
  type CreateLoaderOptions,
  type LoaderState,
} from './shards/tokenLoader.js';
export { maskTokens, IGNORE_INDEX, type MaskTokensOptions } from './augment/maskTokens.js';
export { WordNet, type WordNetPos } from './augment/wordNet.js';
export { randomSwap, randomDeletion, synonymReplacement } from './augment/eda.js';
export {
  augmentDocuments,
  backTranslate,
  type AugmentOptions,
  type TranslateFn,
} from './augment/augmentDocuments.js';
export { ByteTokenizer } from './byteTokenizer.js';
export { dataRunConfigSchema, type DataRunConfig } from './runConfig.js';
export { writeJsonl, computeStats, type CorpusStats } from './output.js';
