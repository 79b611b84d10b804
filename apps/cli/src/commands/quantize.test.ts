import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir, sharedReferencePath } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const modelDir = sharedReferencePath('deepseek-tiny', 'hf');

describe('deepline quantize', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('cli-quantize-');
  });
  afterAll(async () => {
    await removeDir(tmp);
  });

  it('writes a packed int4-g32 model with its quantization_config and reports the size ratio', async () => {
    const out = join(tmp, 'q4');
    const result = runCli(['quantize', '--model', modelDir, '--scheme', 'int4-g32', '--out', out, '--backend', 'cpu', '--json']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.scheme).toBe('int4-g32');
    expect(summary.quantized).toBeGreaterThan(10);
    expect(summary.keptFloat.every((n: string) => n.endsWith('.mlp.gate.weight'))).toBe(true);
    expect(summary.sizeRatio).toBeGreaterThan(0.1);
    expect(summary.sizeRatio).toBeLessThan(0.5);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.quantization_config.scheme).toBe('int4-g32');
    expect(config.quantization_config.weights['model.layers.0.self_attn.o_proj.weight']).toEqual({ bits: 4, group_size: 32, sym: true });
  });

  it('runs GPTQ from a calibration token file', async () => {
    const calibration = join(tmp, 'calib.json');
    await writeFile(calibration, JSON.stringify([Array.from({ length: 48 }, (_, i) => (i * 37) % 256)]));
    const result = runCli(['quantize', '--model', modelDir, '--scheme', 'gptq-int4-g32', '--calibration', calibration, '--out', join(tmp, 'gptq'), '--embeddings', 'int8', '--backend', 'cpu']);
    expect(result.code).toBe(0);
    expect(JSON.parse(await readFile(join(tmp, 'gptq', 'config.json'), 'utf8')).quantization_config.embeddings).toBe('int8');
    expect(result.stdout).toMatch(/quantized \d+ weights with gptq-int4-g32 \(\d+ by GPTQ\)/);
  });

  it('rejects an unknown scheme and GPTQ without calibration (usage errors)', () => {
    const bad = runCli(['quantize', '--model', modelDir, '--scheme', 'int3', '--out', join(tmp, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--scheme must be one of int8, int4-g32/);
    const gptq = runCli(['quantize', '--model', modelDir, '--scheme', 'gptq-int4-g32', '--out', join(tmp, 'y')]);
    expect(gptq.code).toBe(2);
    expect(gptq.stderr).toMatch(/needs --calibration/);
  });
});
