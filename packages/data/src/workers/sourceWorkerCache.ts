import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

// On-disk cache of the source-mode worker bundle (see workerPool.ts), so that only the first
// run after an edit pays for bundling: a later one checks the bundled files' sizes and times
// (a few milliseconds) and starts its worker as fast as from the build.

interface CacheIndex {
  /** What `import.meta.url` was bundled as (a moved checkout must rebundle). */
  key: string;
  inputs: Array<{ path: string; size: number; mtimeMs: number }>;
}

const INDEX = 'index.json';
const BUNDLE = 'pipelineWorker.cjs';

/** The cached bundle for `key` when none of its input files changed since; else undefined. */
export function readCachedBundle(dir: string, key: string): string | undefined {
  try {
    const index = JSON.parse(readFileSync(join(dir, INDEX), 'utf8')) as CacheIndex;
    if (index.key !== key || index.inputs.length === 0) return undefined;
    for (const input of index.inputs) {
      const info = statSync(input.path);
      if (info.size !== input.size || info.mtimeMs !== input.mtimeMs) return undefined;
    }
    return readFileSync(join(dir, BUNDLE), 'utf8');
  } catch {
    return undefined;
  }
}

/** Stores a bundle and its inputs' sizes and times; best effort (a read-only tree just skips it). */
export function writeCachedBundle(dir: string, key: string, code: string, inputs: string[]): void {
  try {
    mkdirSync(dir, { recursive: true });
    const index: CacheIndex = {
      key,
      inputs: inputs.map((path) => {
        const info = statSync(path);
        return { path, size: info.size, mtimeMs: info.mtimeMs };
      }),
    };
    // Bundle first, index last, each written under a name of its own (test runners bundle in
    // several processes and threads at once) and renamed into place: readers see whole files.
    const own = `${process.pid}-${threadId}-${Math.random().toString(36).slice(2)}`;
    writeFileSync(join(dir, `${BUNDLE}.${own}`), code);
    renameSync(join(dir, `${BUNDLE}.${own}`), join(dir, BUNDLE));
    writeFileSync(join(dir, `${INDEX}.${own}`), JSON.stringify(index));
    renameSync(join(dir, `${INDEX}.${own}`), join(dir, INDEX));
  } catch {
    // No cache this time.
  }
}
