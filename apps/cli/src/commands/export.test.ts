import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir, sharedReferencePath } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const modelDir = sharedReferencePath('deepseek-tiny', 'hf');

/** A byte-level BPE tokenizer.json with exactly the 256 byte tokens (GPT-2 byte→unicode map). */
function byteTokenizer(): object {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const vocab: Record<string, number> = {};
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(printable(b) ? b : 256 + extra++)] = b;
  return { model: { type: 'BPE', vocab, merges: [] }, added_tokens: [] };
}

describe('deepline export gguf', () => {
  let tmp: string;
  let tokenizer: string;
  beforeAll(async () => {
    tmp = await makeTempDir('cli-export-');
    tokenizer = join(tmp, 'tokenizer.json');
    await writeFile(tokenizer, JSON.stringify(byteTokenizer()));
  });
  afterAll(async () => {
    await removeDir(tmp);
  });

  it('writes a GGUF v3 file with Q8_0 weights and F32 norms', async () => {
    const out = join(tmp, 'm.gguf');
    const result = runCli(['export', 'gguf', '--model', modelDir, '--type', 'q8_0', '--tokenizer', tokenizer, '--out', out]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote .*m\.gguf: 41 tensors \(29 Q8_0, 12 F32\)/);
    const bytes = await readFile(out);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
  });

  it('exports a quantized model directory (packed weights dequantized first)', async () => {
    const q = join(tmp, 'q8');
    expect(runCli(['quantize', '--model', modelDir, '--scheme', 'int8', '--out', q, '--backend', 'cpu']).code).toBe(0);
    const result = runCli(['export', 'gguf', '--model', q, '--type', 'f16', '--tokenizer', tokenizer, '--out', join(tmp, 'q.gguf'), '--backend', 'cpu']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/F16/);
  });

  it('names the missing tokenizer.json and rejects unknown types and formats', () => {
    const missing = runCli(['export', 'gguf', '--model', modelDir, '--type', 'f16', '--out', join(tmp, 'x.gguf')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/tokenizer\.json/);
    const badType = runCli(['export', 'gguf', '--model', modelDir, '--type', 'q5_k', '--tokenizer', tokenizer, '--out', join(tmp, 'x.gguf')]);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/--type must be one of f32, f16, q8_0, q4_0/);
    expect(runCli(['export', 'onnx', '--model', modelDir, '--type', 'f16', '--out', 'x']).code).toBe(2);
  });
});
