#!/usr/bin/env node
// Builds the optional native GEMM addon with node-gyp, from source and offline. It never
// fails the surrounding install: when something is missing (Node headers, a C++ compiler,
// python3, node-gyp) or the build breaks, it records the reason in build/ and exits 0, and
// the package reports nativeKernelsAvailable() = false with that reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const buildDir = join(root, 'build');
const statusFile = join(buildDir, 'deepline-native-status.json');
const addonFile = join(buildDir, 'Release', 'deepline_native.node');
const tag = '[@deepline/kernels-native]';

function finish(built, reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(
    statusFile,
    `${JSON.stringify({ built, reason, node: process.version, arch: process.arch }, null, 2)}\n`,
  );
  console.log(
    built
      ? `${tag} ${reason}`
      : `${tag} native GEMM not built: ${reason} (the wasm kernels are used instead)`,
  );
  process.exit(0);
}

function works(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

/** node-gyp: this package's devDependency, else the one the package manager ships (npm_config_node_gyp). */
function findNodeGyp() {
  try {
    return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const shipped = process.env.npm_config_node_gyp;
    return shipped && existsSync(shipped) ? shipped : undefined;
  }
}

const flag = (process.env.DEEPLINE_NATIVE ?? '').toLowerCase();
if (flag === 'off' || flag === '0') finish(false, 'skipped: DEEPLINE_NATIVE=off');
if (process.platform !== 'linux' && process.platform !== 'darwin')
  finish(false, `platform ${process.platform} is not supported by binding.gyp`);

// Headers of the running Node: <prefix>/include/node (what node-gyp's --nodedir expects), so
// nothing is downloaded.
const prefix = dirname(dirname(process.execPath));
if (!existsSync(join(prefix, 'include', 'node', 'node_api.h')))
  finish(false, 'Node headers not found in <node prefix>/include/node');
const cxx = process.env.CXX || 'c++';
if (!works(cxx, ['--version'])) finish(false, `no C++ compiler ('${cxx} --version' failed)`);
if (!works('make', ['--version'])) finish(false, "no 'make'");
const python = process.env.PYTHON || 'python3';
if (!works(python, ['--version'])) finish(false, `no Python for node-gyp ('${python}')`);
const nodeGyp = findNodeGyp();
if (!nodeGyp) finish(false, 'node-gyp not found (neither a dependency nor npm_config_node_gyp)');

const started = Date.now();
const jobs = String(Math.max(1, Math.min(4, (await import('node:os')).availableParallelism())));
const result = spawnSync(
  process.execPath,
  [nodeGyp, 'rebuild', `--nodedir=${prefix}`, `--python=${python}`, '--jobs', jobs],
  {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, npm_config_nodedir: prefix },
    timeout: 300_000,
  },
);
if (result.status !== 0) {
  const lines = `${result.stderr ?? ''}\n${result.stdout ?? ''}`
    .split('\n')
    .filter((l) => /error/i.test(l));
  rmSync(addonFile, { force: true });
  finish(
    false,
    `node-gyp rebuild failed: ${(lines[0] ?? result.error?.message ?? `exit ${result.status}`).trim().slice(0, 300)}`,
  );
}

// Load it in a fresh process and check one small product, so a broken binary is never kept.
const check = `const m = require(${JSON.stringify(addonFile)});
const a = new Float32Array([1, 2, 3, 4, 5, 6]), b = new Float32Array([1, 0, 0, 1, 1, 1]), c = new Float32Array(4);
m.gemm(a, b, c, new Float64Array([0, 0, 0, 2, 2, 3, 3, 1, 2, 1, 2, 1, 4]));
if (c.join() !== '4,5,10,11') throw new Error('wrong result ' + c.join());
process.stdout.write(m.isa());`;
try {
  const isa = execFileSync(process.execPath, ['-e', check], { encoding: 'utf8' });
  finish(
    true,
    `built native GEMM addon in ${((Date.now() - started) / 1000).toFixed(1)} s (${isa} kernels)`,
  );
} catch (error) {
  rmSync(addonFile, { force: true });
  finish(false, `the built addon failed its self-check: ${String(error.message).split('\n')[0]}`);
}
