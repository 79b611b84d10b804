import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, toFloat32 } from '@deepline/core';
import { makeTempDir, removeDir, sharedReferencePath } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const goldenFile = sharedReferencePath('deepseek-tiny', 'golden_float32.safetensors');
const modelDir = sharedReferencePath('deepseek-tiny', 'hf');

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('deepline logits', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('cli-logits-');
  });
  afterAll(async () => {
    await removeDir(tmp);
  });

  it('reproduces the model.py golden logits and decode_logits (int64 tokens)', async () => {
    const out = join(tmp, 'out.safetensors');
    // The golden file itself carries int64 'tokens' [2, 24].
    const tokensFile = join(tmp, 'tokens.safetensors');
    copyFileSync(goldenFile, tokensFile);
    const result = runCli(['logits', '--model', modelDir, '--tokens', tokensFile, '--out', out, '--decode', '16', '--backend', 'wasm']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const golden = (await readSafetensors(goldenFile)).tensors;
    const got = (await readSafetensors(out)).tensors;
    expect(got.get('logits')!.shape).toEqual([2, 24, 256]);
    expect(maxAbsDiff(toFloat32(got.get('logits')!), toFloat32(golden.get('logits')!))).toBeLessThan(1e-4);
    expect(got.get('decode_logits')!.shape).toEqual([9, 2, 256]);
    expect(maxAbsDiff(toFloat32(got.get('decode_logits')!), toFloat32(golden.get('decode_logits')!))).toBeLessThan(1e-4);
  });

  it('fails clearly on bad usage and bad token files', () => {
    const missing = runCli(['logits', '--model', modelDir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model, --tokens and --out are required/);
    const noTokens = runCli(['logits', '--model', modelDir, '--tokens', join(modelDir, 'model.safetensors'), '--out', join(tmp, 'x.safetensors'), '--backend', 'cpu']);
    expect(noTokens.code).toBe(1);
    expect(noTokens.stderr).toMatch(/no tensor named 'tokens'/);
    const badDecode = runCli(['logits', '--model', modelDir, '--tokens', goldenFile, '--out', join(tmp, 'y.safetensors'), '--decode', '0']);
    expect(badDecode.code).toBe(2);
    expect(badDecode.stderr).toMatch(/--decode must be a positive integer/);
  });
});
