import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishablePackages } from './workspacePackages.js';

// Proves "install individual @deepline packages": real tarballs (as `pnpm publish` would
// make them), installed by npm into a project that has never seen the monorepo.
const packages = publishablePackages();
let packDir: string;
let projectDir: string;
const tarballs = new Map<string, string>();

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' } });
}

beforeAll(async () => {
  packDir = await makeTempDir('deepline-pack-');
  projectDir = await makeTempDir('deepline-consumer-');
  for (const pkg of packages) {
    sh('corepack', ['pnpm', 'pack', '--pack-destination', packDir], pkg.dir);
  }
  for (const file of readdirSync(packDir)) tarballs.set(file, join(packDir, file));
});

afterAll(async () => {
  await removeDir(packDir);
  await removeDir(projectDir);
});

describe('publishable packages', () => {
  it('each packs into a tarball with built ESM, CJS and types and no workspace: ranges', () => {
    expect(packages.length).toBeGreaterThan(1);
    for (const pkg of packages) {
      const file = `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`;
      const tarball = tarballs.get(file);
      expect(tarball, `${pkg.name} tarball`).toBeDefined();
      const listing = sh('tar', ['-tzf', tarball!], packDir);
      for (const entry of ['package/dist/index.js', 'package/dist/index.cjs', 'package/dist/index.d.ts', 'package/README.md']) {
        expect(listing, `${pkg.name} contains ${entry}`).toContain(entry);
      }
      expect(listing).not.toMatch(/\.test\.ts/);
      const manifest = JSON.parse(sh('tar', ['-xzOf', tarball!, 'package/package.json'], packDir));
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('workspace:');
      expect(manifest.engines.node).toBe('>=20.19');
    }
  });

  it('@deepline/core installs into an empty project and imports as ESM and CJS', () => {
    writeFileSync(join(projectDir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const core = packages.find((p) => p.name === '@deepline/core')!;
    const tarball = tarballs.get(`deepline-core-${core.version}.tgz`)!;
    sh('npm', ['install', '--omit=optional', '--no-audit', '--no-fund', '--loglevel=error', tarball], projectDir);
    const installed = JSON.parse(readFileSync(join(projectDir, 'node_modules/@deepline/core/package.json'), 'utf8'));
    expect(installed.version).toBe(core.version);
    const program = (load: string) => `
      ${load}
      (async () => {
        const report = await m.initBackend({ backend: 'cpu' });
        const rng = new m.SeededRandom(5);
        const t = m.tf.matMul(m.tf.tensor2d([1, 2, 3, 4], [2, 2]), m.tf.eye(2));
        console.log(JSON.stringify({ backend: report.selected, r: rng.nextUint32(), v: Array.from(t.dataSync()) }));
      })();`;
    const esm = sh('node', ['--input-type=module', '-e', program("import * as m from '@deepline/core';")], projectDir);
    const cjs = sh('node', ['-e', program("const m = require('@deepline/core');")], projectDir);
    // The workspace source (what vitest imports) must agree with the packed build.
    const expected = { backend: 'cpu', r: new SeededRandom(5).nextUint32(), v: [1, 2, 3, 4] };
    expect(JSON.parse(esm.trim().split('\n').pop()!)).toEqual(expected);
    expect(JSON.parse(cjs.trim().split('\n').pop()!)).toEqual(expected);
  });
});
