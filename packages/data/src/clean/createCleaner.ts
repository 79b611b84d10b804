import { validateConfig } from '@deepline/core';
import { type CleanConfig, type CleanConfigInput, cleanConfigSchema } from '../config.js';
import { DataError } from '../errors.js';
import { syncTextKernels } from '../syncTextKernels.js';
import type { DataReport } from '../report.js';
import type { TextTokenizer } from '../types.js';
import { buildTextStages } from './buildTextStages.js';
import { Cleaner } from './cleaner.js';
import type { CleaningStage } from './stage.js';
import { tokenLengthStage } from './tokenLengthStage.js';

/** Options for {@link createCleaner}. */
export interface CreateCleanerOptions {
  /** Stage options (see {@link cleanConfigSchema}); omitted fields take the published defaults. */
  config?: CleanConfigInput;
  /** Needed only when `config.tokenLength` is on. */
  tokenizer?: TextTokenizer;
  report?: DataReport;
  /** Which part of the chain to build: 'text' (everything but token length), 'tokens' (only token length) or 'all' (default). */
  part?: 'text' | 'tokens' | 'all';
}

/**
 * Builds the default chain: normalize → invalid chars → Gopher repetition → Gopher quality →
 * C4 → FineWeb → language → PII → token length (FineWeb's order, with language ID moved
 * after the cheap filters).
 */
export async function createCleaner(options: CreateCleanerOptions = {}): Promise<Cleaner> {
  const config: CleanConfig = validateConfig({
    value: options.config ?? {},
    schema: cleanConfigSchema,
    source: 'clean config',
  });
  const part = options.part ?? 'all';
  syncTextKernels();
  const stages: CleaningStage[] = [];
  if (part !== 'tokens') stages.push(...(await buildTextStages(config)));
  if (part !== 'text' && config.tokenLength) {
    if (!options.tokenizer) {
      throw new DataError('clean.tokenLength needs a tokenizer', {
        code: 'BAD_OPTION',
        context: { field: 'tokenLength' },
      });
    }
    stages.push(tokenLengthStage({ tokenizer: options.tokenizer, ...config.tokenLength }));
  }
  return new Cleaner({ stages, report: options.report });
}
