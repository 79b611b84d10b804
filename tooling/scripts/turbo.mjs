#!/usr/bin/env node
// Runs turbo with a `pnpm` on PATH. `corepack pnpm <script>` runs pnpm without putting a
// pnpm binary on PATH, and turbo refuses to start without one; the shim re-invokes the
// exact pnpm (corepack's pinned version) that is running this script.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const onPath = (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'pnpm')));
let path = process.env.PATH ?? '';
const pnpmScript = process.env.npm_execpath;
if (!onPath && pnpmScript) {
  const shimDir = join(root, 'node_modules', '.pnpm-shim');
  mkdirSync(shimDir, { recursive: true });
  const shim = join(shimDir, 'pnpm');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${pnpmScript}" "$@"\n`);
  chmodSync(shim, 0o755);
  path = `${shimDir}${delimiter}${path}`;
}
const turbo = join(root, 'node_modules', '.bin', 'turbo');
const result = spawnSync(turbo, process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, PATH: path } });
process.exit(result.status ?? 1);
