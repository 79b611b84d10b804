import { z } from 'zod';
import { cleanConfigSchema, dedupConfigSchema } from './config.js';

/**
 * The YAML config of `deepline data …` (every section optional; CLI flags override). Example:
 *
 * ```yaml
 * input: { paths: ["corpus/**\/*.jsonl.gz"], textField: text, metaFields: [label] }
 * clean: { language: { languages: [en] }, c4: { minSentences: 3 } }
 * dedup: { minhash: { bands: 14, rows: 8 } }
 * shard: { tokenizer: tokenizer.json, fractions: { train: 0.9, validation: 0.05, test: 0.05 }, stratifyBy: label }
 * output: { path: out/clean.jsonl, report: out/report.json }
 * ```
 */
export const dataRunConfigSchema = z.object({
  input: z
    .object({
      paths: z.array(z.string()).default([]),
      format: z.enum(['auto', 'text', 'jsonl', 'csv', 'tsv', 'parquet', 'arrow']).default('auto'),
      textField: z.string().default('text'),
      idField: z.string().optional(),
      metaFields: z.array(z.string()).default([]),
      textUnit: z.enum(['file', 'paragraph', 'line']).default('file'),
      invalidUtf8: z.enum(['skip', 'replace']).default('skip'),
    })
    .prefault({}),
  clean: cleanConfigSchema.prefault({}),
  dedup: dedupConfigSchema.prefault({}),
  augment: z
    .object({
      copies: z.number().int().positive().default(1),
      seed: z.number().int().default(0),
      synonymRate: z.number().min(0).max(1).default(0.1),
      swapRate: z.number().min(0).max(1).default(0.1),
      deletionRate: z.number().min(0).max(1).default(0.1),
      keepOriginal: z.boolean().default(true),
    })
    .prefault({}),
  shard: z
    .object({
      /** 'byte' (built-in byte tokenizer) or the path of a tokenizer.json. */
      tokenizer: z.string().default('byte'),
      fractions: z
        .record(z.string(), z.number())
        .default({ train: 0.98, validation: 0.01, test: 0.01 }),
      seed: z.number().int().default(0),
      stratifyBy: z.string().optional(),
      maxTokensPerShard: z
        .number()
        .int()
        .positive()
        .default(1 << 24),
    })
    .prefault({}),
  output: z.object({ path: z.string().optional(), report: z.string().optional() }).prefault({}),
  workers: z.number().int().nonnegative().optional(),
});

export type DataRunConfig = z.output<typeof dataRunConfigSchema>;
