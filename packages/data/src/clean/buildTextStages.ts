import type { CleanConfig } from '../config.js';
import { c4Stage } from './c4Stage.js';
import { finewebStage } from './finewebStage.js';
import { gopherQualityStage } from './gopherQualityStage.js';
import { gopherRepetitionStage } from './gopherRepetitionStage.js';
import { invalidCharsStage } from './invalidCharsStage.js';
import { languageStage } from './languageStage.js';
import { normalizeStage } from './normalizeStage.js';
import { piiStage } from './piiStage.js';
import type { CleaningStage } from './stage.js';

/**
 * The text stages of an already validated config, in chain order: normalize → invalid chars →
 * Gopher repetition → Gopher quality → C4 → FineWeb → language → PII. Free of zod and of
 * @deepline/core so worker threads boot fast.
 */
export async function buildTextStages(config: CleanConfig): Promise<CleaningStage[]> {
  const stages: CleaningStage[] = [];
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
  return stages;
}
