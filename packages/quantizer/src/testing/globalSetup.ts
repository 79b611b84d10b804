// Trains the tiny model once per test run (fixed seeds) in a child process that resolves the
// workspace packages from source, and hands its directory to the test files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    trainedModelDir: string;
  }
}

let dir: string | undefined;

export function setup(project: TestProject): void {
  dir = mkdtempSync(join(tmpdir(), 'quantizer-trained-'));
  const here = dirname(fileURLToPath(import.meta.url));
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const result = spawnSync(process.execPath, ['--conditions=source', '--import', tsx, join(here, 'trainFixture.ts'), dir], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.status !== 0) throw new Error(`training the fixture model failed:\n${result.stderr}`);
  project.provide('trainedModelDir', dir);
}

export function teardown(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
