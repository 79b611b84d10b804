import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** Runs the real `deepline` binary from source (no build), as a user would from a shell. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; input?: string } = {}) {
  const result = spawnSync(process.execPath, ['--conditions=source', '--import', tsxLoader, join(here, 'bin.ts'), ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    input: options.input,
    env: { ...process.env, ...options.env },
    timeout: 300_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
