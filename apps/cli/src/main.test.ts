import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './testing.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

describe('deepline CLI', () => {
  it('prints help and version', () => {
    const help = runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: deepline <command>');
    expect(help.stdout).toMatch(/doctor\s+Check Node/);
    const version = runCli(['--version']);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('rejects unknown commands and flags with exit 2', () => {
    expect(runCli(['frobnicate']).code).toBe(2);
    const bad = runCli(['doctor', '--colour']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--colour'");
  });

  it('doctor --json reports wasm and cpu available, the others with reasons, and a passing matmul', () => {
    const { code, stdout } = runCli(['doctor', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    const byName = Object.fromEntries(report.backends.map((b: { name: string }) => [b.name, b]));
    expect(byName.wasm.available).toBe(true);
    expect(byName.cpu.available).toBe(true);
    for (const name of ['node-gpu', 'node', 'webgpu']) {
      expect(byName[name].available).toBe(false);
      expect(byName[name].reason).toBeTruthy();
    }
    expect(report.selected).toBe('wasm');
    expect(report.matmulCheck).toMatchObject({ size: 256, passed: true });
    expect(report.matmulCheck.maxAbsError).toBeLessThan(1e-3);
  });

  it('doctor honours DEEPLINE_BACKEND and rejects a bad value naming the variable', () => {
    const cpu = runCli(['doctor'], { env: { DEEPLINE_BACKEND: 'cpu' } });
    expect(cpu.code).toBe(0);
    expect(cpu.stdout).toMatch(/selected\s+cpu/);
    const bad = runCli(['doctor'], { env: { DEEPLINE_BACKEND: 'tpu' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('DEEPLINE_BACKEND must be one of');
  });
});
