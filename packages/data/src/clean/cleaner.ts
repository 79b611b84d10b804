import { validateConfig } from '@deepline/core';
import { type CleanConfig, type CleanConfigInput, cleanConfigSchema } from '../config.js';
import { DataError } from '../errors.js';
import { DataReport } from '../report.js';
import type { Document, TextTokenizer } from '../types.js';
import { c4Stage } from './c4Stage.js';
import { finewebStage } from './finewebStage.js';
import { gopherQualityStage } from './gopherQualityStage.js';
import { gopherRepetitionStage } from './gopherRepetitionStage.js';
import { invalidCharsStage } from './invalidCharsStage.js';
import { languageStage } from './languageStage.js';
import { normalizeStage } from './normalizeStage.js';
import { piiStage } from './piiStage.js';
import { type CleaningStage, isRejection } from './stage.js';
import { tokenLengthStage } from './tokenLengthStage.js';

/** Runs documents through an ordered list of stages, counting kept/dropped/modified per stage. */
export class Cleaner {
  readonly stages: CleaningStage[];
  readonly report: DataReport;

  constructor(options: { stages: CleaningStage[]; report?: DataReport }) {
    this.stages = options.stages;
    this.report = options.report ?? new DataReport();
  }

  /** The documents that survive every stage (none, one, or several after splitting). */
  process(doc: Document): Document[] {
    let current: Document[] = [doc];
    for (const stage of this.stages) {
      const stats = this.report.stage(stage.name);
      const next: Document[] = [];
      for (const d of current) {
        stats.input++;
        let result: ReturnType<CleaningStage['apply']>;
        try {
          result = stage.apply(d);
        } catch (error) {
          // A stage bug on one odd document must not end the run; it is reported instead.
          this.report.reject(stats, d.id, 'stage_error', (error as Error).message);
          continue;
        }
        if (Array.isArray(result)) {
          stats.modified++;
          stats.output += result.length;
          next.push(...result);
        } else if (isRejection(result))
          this.report.reject(stats, d.id, result.reason, result.detail);
        else {
          if (result.text !== d.text) stats.modified++;
          stats.output++;
          next.push(result);
        }
      }
      current = next;
      if (current.length === 0) break;
    }
    return current;
  }
}

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
  const stages: CleaningStage[] = [];
  if (part !== 'tokens') {
    if (config.normalize) stages.push(normalizeStage(config.normalize));
    if (config.invalidChars) stages.push(invalidCharsStage(config.invalidChars));
    if (config.gopherRepetition) stages.push(gopherRepetitionStage(config.gopherRepetition));
    if (config.gopherQuality) stages.push(gopherQualityStage(config.gopherQuality));
    if (config.c4) stages.push(c4Stage(config.c4));
    if (config.fineweb) stages.push(finewebStage(config.fineweb));
    // Language ID is the most expensive stage per document, so it runs on the survivors of the
    // cheap rule-based filters (which never depend on it).
    if (config.language) stages.push(await languageStage(config.language));
    if (config.pii) stages.push(piiStage(config.pii));
  }
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
