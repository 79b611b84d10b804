import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface RunReadmeExampleOptions {
  /** The package directory holding README.md (the example may import the package by name). */
  packageDir: string;
  /** Which ```ts block to run (0-based). Default 0. */
  index?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Runs a ```ts block of a package README as a user would: written inside the package
 * (so `import '@deepline/x'` self-resolves, from src via the `source` condition) and
 * executed by Node with tsx. Returns stdout; throws with stderr if it fails.
 */
export function runReadmeExample(options: RunReadmeExampleOptions): string {
  const readme = readFileSync(join(options.packageDir, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const code = blocks[options.index ?? 0];
  if (code === undefined) throw new Error(`README.md in ${options.packageDir} has no ts block #${options.index ?? 0}`);
  const file = join(options.packageDir, `.readme-example-${process.pid}-${options.index ?? 0}.mts`);
  writeFileSync(file, code);
  try {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return execFileSync(process.execPath, ['--conditions=source', '--import', tsx, file], {
      cwd: options.packageDir,
      encoding: 'utf8',
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 120_000,
    });
  } finally {
    rmSync(file, { force: true });
  }
}
