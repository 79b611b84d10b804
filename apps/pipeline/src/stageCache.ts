import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageResult } from './stage.js';

/** Stable JSON: object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function stageHash(parts: { stage: string; version: string; configSlice: unknown; inputHashes: string[] }): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex').slice(0, 16);
}

/**
 * Cache entries live in <root>/<stage>/<hash>/ with result.json written last; work in
 * progress lives in <hash>.partial/ and is renamed into place when the stage finishes,
 * so a killed run never leaves an entry that looks complete.
 */
export class StageCache {
  constructor(private readonly root: string) {}

  entryDir(stage: string, hash: string): string {
    return join(this.root, stage, hash);
  }

  partialDir(stage: string, hash: string): string {
    return join(this.root, stage, `${hash}.partial`);
  }

  async load(stage: string, hash: string): Promise<StageResult | undefined> {
    const file = join(this.entryDir(stage, hash), 'result.json');
    if (!existsSync(file)) return undefined;
    const result = JSON.parse(await readFile(file, 'utf8')) as StageResult;
    return { ...result, dir: this.entryDir(stage, hash), cached: true };
  }

  /** Prepares the partial dir; a non-resumable stage starts from an empty one. */
  async begin(stage: string, hash: string, resumable: boolean): Promise<string> {
    const dir = this.partialDir(stage, hash);
    if (!resumable) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async commit(result: StageResult): Promise<StageResult> {
    const partial = this.partialDir(result.stage, result.hash);
    const final = this.entryDir(result.stage, result.hash);
    const stored = { ...result, dir: final, cached: false };
    await writeFile(join(partial, 'result.json'), `${JSON.stringify(stored, null, 2)}\n`);
    await rm(final, { recursive: true, force: true });
    await rename(partial, final);
    return stored;
  }
}
