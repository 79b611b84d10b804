import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend, readSafetensorsHeader, tf } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { makeTempDir, removeDir, seededFloats } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QuantizerError } from './errors.js';
import { measurePeakMemory, perplexity } from './evaluate.js';
import { QuantizedLinear } from './quantizedLinear.js';
import { loadQuantizedModel, saveQuantizedModel } from './quantizedIo.js';
import { quantizeModel } from './quantizeModel.js';
import { quantizeInt4, quantizeInt8 } from './rtn.js';
import { parseScheme } from './scheme.js';

let trainedDir: string;
let tmp: string;
let heldOut: number[];
let calibration: number[][];
let fp32Ppl: number;
let reference: tf.Tensor;
const probe = () => heldOut.slice(0, 96);

/** Mean KL(fp32 ‖ model) of the next-token distributions over the probe window. */
function klToReference(model: DeepseekModel): number {
  return tf.tidy(() => {
    const q = tf.logSoftmax(model.forward(tf.tensor2d([probe()], [1, 96], 'int32')).logits);
    return tf.mean(tf.sum(tf.mul(tf.exp(reference), tf.sub(reference, q)), -1)).dataSync()[0]!;
  });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  trainedDir = inject('trainedModelDir');
  tmp = await makeTempDir('quantize-model-');
  const tokens = JSON.parse(await readFile(join(trainedDir, 'tokens.json'), 'utf8')) as { heldOut: number[]; calibration: number[] };
  heldOut = tokens.heldOut;
  calibration = Array.from({ length: 8 }, (_, i) => tokens.calibration.slice(i * 128, (i + 1) * 128));
  const base = await DeepseekModel.load(trainedDir);
  fp32Ppl = perplexity({ model: base, tokens: heldOut }).ppl;
  reference = tf.tidy(() => tf.logSoftmax(base.forward(tf.tensor2d([probe()], [1, 96], 'int32')).logits));
  base.dispose();
});

afterAll(async () => {
  reference?.dispose();
  await removeDir(tmp);
});

describe('quantizeModel on a trained model', () => {
  it('int8 and int4-g32 stay within the perplexity budgets and keep router/embeddings float', async () => {
    for (const [scheme, budget] of [
      ['int8', 0.005],
      ['int4-g32', 0.03],
    ] as const) {
      const model = await DeepseekModel.load(trainedDir);
      const result = quantizeModel({ model, scheme });
      expect(result.kept.map((k) => k.name).every((n) => n.endsWith('.mlp.gate.weight'))).toBe(true);
      expect(result.quantized.length).toBe(model.linears().size - result.kept.length);
      expect(model.linears().get('model.layers.1.mlp.gate.weight')).not.toBeInstanceOf(QuantizedLinear);
      const ppl = perplexity({ model, tokens: heldOut }).ppl;
      expect(Math.abs(ppl / fp32Ppl - 1)).toBeLessThan(budget);
      model.dispose();
    }
  });

  it('GPTQ int4 ends closer to the float model than round-to-nearest (KL on held-out text)', async () => {
    const rtn = await DeepseekModel.load(trainedDir);
    quantizeModel({ model: rtn, scheme: 'int4-g32' });
    const gptq = await DeepseekModel.load(trainedDir);
    const result = quantizeModel({ model: gptq, scheme: 'gptq-int4-g32', calibration });
    expect(result.quantized.filter((q) => q.method === 'gptq').length).toBeGreaterThan(result.quantized.length / 2);
    expect(klToReference(gptq)).toBeLessThan(0.9 * klToReference(rtn));
    rtn.dispose();
    gptq.dispose();
  });

  it('GPTQ without calibration data, or a model quantized twice, is an error', async () => {
    const model = await DeepseekModel.load(trainedDir);
    expect(() => quantizeModel({ model, scheme: 'gptq-int4-g64' })).toThrow(/needs calibration/);
    quantizeModel({ model, scheme: 'int8' });
    expect(() => quantizeModel({ model, scheme: 'int8' })).toThrow(QuantizerError);
    expect(() => parseScheme('int3')).toThrow(/unknown quantization scheme 'int3'/);
    model.dispose();
  });

  it('saves packed tensors + quantization_config and loads them back bit-exactly', async () => {
    const model = await DeepseekModel.load(trainedDir);
    quantizeModel({ model, scheme: 'int4-g32-asym', rules: [{ pattern: '*.o_proj.weight', scheme: parseScheme('int8') }] });
    const dir = join(tmp, 'q4');
    const saved = await saveQuantizedModel({ model, dir, scheme: 'int4-g32-asym' });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config.quantization_config).toMatchObject({ quant_method: 'deepline', format_version: 1, scheme: 'int4-g32-asym', activation: 'none' });
    expect(config.quantization_config.weights['model.layers.0.self_attn.o_proj.weight']).toEqual({ bits: 8, sym: true });
    expect(config.quantization_config.weights['model.layers.0.mlp.up_proj.weight']).toEqual({ bits: 4, group_size: 32, sym: false });
    const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
    expect(header.get('model.layers.0.mlp.up_proj.qweight')).toEqual({ dtype: 'U8', shape: [128, 32] });
    expect(header.get('model.layers.0.mlp.up_proj.scales')).toEqual({ dtype: 'F16', shape: [128, 2] });
    expect(header.get('model.layers.0.mlp.up_proj.zeros')).toEqual({ dtype: 'U8', shape: [128, 2] });
    expect(header.get('model.layers.0.self_attn.o_proj.qweight')).toEqual({ dtype: 'I8', shape: [64, 64] });
    expect(header.get('model.layers.1.mlp.gate.weight')?.dtype).toBe('F32');
    expect(header.has('model.layers.0.mlp.up_proj.weight')).toBe(false);

    const fp32Bytes = (await stat(join(trainedDir, 'model.safetensors'))).size;
    expect(saved.bytes).toBeLessThan(0.35 * fp32Bytes);

    const loaded = await loadQuantizedModel(dir);
    expect(loaded.linears().get('model.layers.0.mlp.up_proj.weight')).toBeInstanceOf(QuantizedLinear);
    const ids = tf.tensor2d([heldOut.slice(0, 40)], [1, 40], 'int32');
    const a = tf.tidy(() => model.forward(ids).logits.dataSync());
    const b = tf.tidy(() => loaded.forward(ids).logits.dataSync());
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    ids.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('can store the embedding as per-row int8 on disk', async () => {
    const model = await DeepseekModel.load(trainedDir);
    quantizeModel({ model, scheme: 'int4-g32' });
    const plain = await saveQuantizedModel({ model, dir: join(tmp, 'e32') });
    const small = await saveQuantizedModel({ model, dir: join(tmp, 'e8'), embeddings: 'int8' });
    // 320×64 float32 → int8 + one f16 scale per row.
    expect(plain.bytes - small.bytes).toBeGreaterThan(320 * 64 * 3 - 1024);
    const header = await readSafetensorsHeader(join(tmp, 'e8', 'model.safetensors'));
    expect(header.get('model.embed_tokens.qweight')).toEqual({ dtype: 'I8', shape: [320, 64] });
    const loaded = await loadQuantizedModel(join(tmp, 'e8'));
    const ppl = perplexity({ model: loaded, tokens: heldOut }).ppl;
    expect(Math.abs(ppl / perplexity({ model, tokens: heldOut }).ppl - 1)).toBeLessThan(0.005);
    loaded.dispose();
    model.dispose();
  });

  it('names the missing packed tensor of a damaged directory', async () => {
    const model = await DeepseekModel.load(trainedDir);
    quantizeModel({ model, scheme: 'int8' });
    const dir = join(tmp, 'broken');
    await saveQuantizedModel({ model, dir });
    model.dispose();
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    config.quantization_config.weights['model.norm.weight'] = { bits: 8, sym: true };
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'config.json'), JSON.stringify(config)));
    await expect(loadQuantizedModel(dir)).rejects.toThrow(/packed tensor 'model.norm.qweight' is missing/);
    await rm(dir, { recursive: true });
  });

  it('reports a lower peak memory for int4 than for fp32 on the same decode-sized forward pass', async () => {
    // Few tokens, so the weights (not activations) dominate what is resident.
    const ids = tf.tensor2d([heldOut.slice(0, 4)], [1, 4], 'int32');
    const fp32 = await DeepseekModel.load(trainedDir);
    const peakFp32 = await measurePeakMemory(fp32, () => tf.tidy(() => fp32.forward(ids).logits.dataSync()));
    fp32.dispose();
    const int4 = await loadQuantizedModel(trainedDir);
    quantizeModel({ model: int4, scheme: 'int4-g32' });
    const peakInt4 = await measurePeakMemory(int4, () => tf.tidy(() => int4.forward(ids).logits.dataSync()));
    int4.dispose();
    ids.dispose();
    expect(peakInt4.packedBytes).toBeGreaterThan(0);
    expect(peakInt4.peakBytes).toBeLessThan(0.6 * peakFp32.peakBytes);
  });
});

describe('QuantizedLinear', () => {
  const rows = 80; // ≥ 64 rows: the int4 GEMV takes its table-driven path
  const rows2 = 48;
  const cols = 64;
  const data = seededFloats(rows * cols, 9, 0.2);
  const x = seededFloats(20 * cols, 10, 1);

  const data2 = data.subarray(0, rows2 * cols);
  for (const weight of [
    quantizeInt8({ data, rows, cols }),
    quantizeInt4({ data, rows, cols, groupSize: 32, symmetric: false }),
    quantizeInt4({ data: data2, rows: rows2, cols, groupSize: 64, symmetric: true }),
  ]) {
    it(`${weight.format} ${weight.rows} rows: packed GEMV (decode) and dequantize-matmul (prefill) agree with the dequantized weight`, () => {
      const linear = new QuantizedLinear({ name: 'w', weight, gemvMaxRows: 4 });
      const dense = tf.tidy(() => tf.matMul(tf.tensor2d(x, [20, cols]), linear.weightMatrix(), false, true).dataSync());
      const small = tf.tidy(() => linear.apply(tf.tensor3d(x.subarray(0, 3 * cols), [1, 3, cols])).dataSync());
      expect(linear.lastPath).toBe('gemv');
      const big = tf.tidy(() => linear.apply(tf.tensor2d(x, [20, cols])).dataSync());
      expect(linear.lastPath).toBe('dequantize-matmul');
      for (let i = 0; i < 3 * weight.rows; i++) expect(small[i]).toBeCloseTo(dense[i]!, 4);
      for (let i = 0; i < 20 * weight.rows; i++) expect(big[i]).toBeCloseTo(dense[i]!, 4);
    });
  }

  it('dynamic int8 activations stay within the activation rounding error', () => {
    const weight = quantizeInt8({ data, rows, cols });
    const exact = new QuantizedLinear({ name: 'w', weight });
    const act = new QuantizedLinear({ name: 'w', weight, activation: 'int8' });
    for (const m of [2, 20]) {
      const input = tf.tensor2d(x.subarray(0, m * cols), [m, cols]);
      const a = tf.tidy(() => exact.apply(input).dataSync());
      const b = tf.tidy(() => act.apply(input).dataSync());
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < a.length; i++) {
        diff += (a[i]! - b[i]!) ** 2;
        norm += a[i]! ** 2;
      }
      expect(Math.sqrt(diff / norm)).toBeGreaterThan(0);
      expect(Math.sqrt(diff / norm)).toBeLessThan(0.02);
      input.dispose();
    }
  });

  it('rejects an input of the wrong width', () => {
    const linear = new QuantizedLinear({ name: 'w', weight: quantizeInt8({ data, rows, cols }) });
    expect(() => tf.tidy(() => linear.apply(tf.zeros([2, cols + 1])))).toThrow(/does not end in 64/);
  });
});
