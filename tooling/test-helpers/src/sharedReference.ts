import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The read-only ../shared folder sits beside the repository checkout. Tests may read
// reference fixtures from it; the product never does.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Absolute path of a file under ../shared/reference (beside the repo root). */
export function sharedReferencePath(...parts: string[]): string {
  return join(repoRoot, '..', 'shared', 'reference', ...parts);
}

export function hasSharedReference(...parts: string[]): boolean {
  return existsSync(sharedReferencePath(...parts));
}
