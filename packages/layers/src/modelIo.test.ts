import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, readSafetensors, tf, writeSafetensors } from '@deepline/core';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetConfig } from './config.js';
import { DeepseekModel } from './model.js';
import { readModelDir } from './modelIo.js';
import { GOLDEN_MODEL_DIR, loadGolden, maxAbsDiff } from './testing/golden.js';

const HF_TO_MODELPY: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, 'embed.weight'],
  [/^model\.norm\.weight$/, 'norm.weight'],
  [/^lm_head\.weight$/, 'head.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'layers.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'layers.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.q_proj\.weight$/, 'layers.$1.attn.wq.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.kv_a_proj_with_mqa\.weight$/, 'layers.$1.attn.wkv_a.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.kv_a_layernorm\.weight$/, 'layers.$1.attn.kv_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.kv_b_proj\.weight$/, 'layers.$1.attn.wkv_b.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.weight$/, 'layers.$1.attn.wo.weight'],
  [/^model\.layers\.(\d+)\.mlp\.gate\.weight$/, 'layers.$1.ffn.gate.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(experts\.\d+\.|shared_experts\.|)gate_proj\.weight$/, 'layers.$1.ffn.$2w1.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(experts\.\d+\.|shared_experts\.|)down_proj\.weight$/, 'layers.$1.ffn.$2w2.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(experts\.\d+\.|shared_experts\.|)up_proj\.weight$/, 'layers.$1.ffn.$2w3.weight'],
];

function toModelPyName(name: string): string {
  for (const [re, to] of HF_TO_MODELPY) if (re.test(name)) return name.replace(re, to);
  throw new Error(`no model.py name for ${name}`);
}

describe('HF model directories', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    tmp = await makeTempDir('layers-io-');
  });
  afterAll(async () => {
    await removeDir(tmp);
  });

  it('save → load round-trips every tensor exactly (F32), sharded too, with MTP copies', async () => {
    const config = presetConfig('tiny', { vocabSize: 40, dim: 16, interDim: 24, moeInterDim: 8, nHeads: 2, qLoraRank: 8, kvLoraRank: 8, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 4 });
    const model = DeepseekModel.create(config, { seed: 3, initStd: 0.05 });
    // make the gate biases non-zero so their round trip is meaningful
    for (const v of model.correctionBiases().values()) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 1));
    const dir = join(tmp, 'sharded');
    const files = await model.save(dir, { maxShardBytes: 20_000 });
    expect(files[0]).toBe('config.json');
    expect(files.length).toBeGreaterThan(2);
    expect(existsSync(join(dir, 'model.safetensors.index.json'))).toBe(true);
    const raw = new Map<string, unknown>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
      for (const [n, t] of (await readSafetensors(join(dir, f))).tensors) raw.set(n, t);
    }
    expect(raw.has(`model.layers.${config.nLayers}.embed_tokens.weight`)).toBe(true);
    expect(raw.has(`model.layers.${config.nLayers}.shared_head.head.weight`)).toBe(true);
    const loaded = await DeepseekModel.load(dir);
    expect(loaded.config).toEqual(config);
    const a = model.hostTensors();
    const b = loaded.hostTensors();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a) expect(b.get(name)!.data, name).toEqual(t.data);
    model.dispose();
    loaded.dispose();
  });

  it('BF16 storage loads back within bf16 rounding', async () => {
    const golden = await DeepseekModel.load(GOLDEN_MODEL_DIR);
    const dir = join(tmp, 'bf16');
    await golden.save(dir, { dtype: 'BF16' });
    const st = await readSafetensors(join(dir, 'model.safetensors'));
    expect(st.tensors.get('lm_head.weight')!.dtype).toBe('BF16');
    const loaded = await DeepseekModel.load(dir);
    const a = golden.hostTensors().get('lm_head.weight')!.data;
    const b = loaded.hostTensors().get('lm_head.weight')!.data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) / 128);
    golden.dispose();
    loaded.dispose();
  });

  it('loads DeepSeek model.py tensor names (convert.py output) to the same logits', async () => {
    const src = await readSafetensors(join(GOLDEN_MODEL_DIR, 'model.safetensors'));
    const dir = join(tmp, 'modelpy');
    const renamed: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of src.tensors) {
      renamed[toModelPyName(name)] = { dtype: 'F32', shape: t.shape, data: new Float32Array(t.bytes.slice().buffer) };
    }
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeSafetensors(join(dir, 'model.safetensors'), renamed);
    copyFileSync(join(GOLDEN_MODEL_DIR, 'config.json'), join(dir, 'config.json'));
    const model = await DeepseekModel.load(dir);
    const golden = await loadGolden();
    const tokens = golden.tokens();
    const out = model.forward(tokens);
    expect(maxAbsDiff(out.logits.dataSync(), golden.get('logits').data)).toBeLessThan(1e-4);
    tf.dispose([tokens, out.logits]);
    model.dispose();
  });

  async function brokenDir(name: string, edit: (t: Record<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }>) => void) {
    const src = await readSafetensors(join(GOLDEN_MODEL_DIR, 'model.safetensors'));
    const tensors: Record<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }> = {};
    for (const [n, t] of src.tensors) tensors[n] = { dtype: 'F32', shape: t.shape, data: new Float32Array(t.bytes.slice().buffer) };
    edit(tensors);
    const dir = join(tmp, name);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeSafetensors(join(dir, 'model.safetensors'), tensors);
    copyFileSync(join(GOLDEN_MODEL_DIR, 'config.json'), join(dir, 'config.json'));
    return dir;
  }

  it('names unknown, missing and mis-shaped tensors (with both shapes) and bad dtypes', async () => {
    const unknown = await brokenDir('unknown', (t) => {
      t['model.layers.0.mlp.extra.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
    });
    await expect(DeepseekModel.load(unknown)).rejects.toThrow(/unknown tensor 'model.layers.0.mlp.extra.weight'/);
    const missing = await brokenDir('missing', (t) => {
      delete t['model.layers.2.mlp.experts.5.up_proj.weight'];
    });
    await expect(DeepseekModel.load(missing)).rejects.toThrow(/missing 1 tensor\(s\): model.layers.2.mlp.experts.5.up_proj.weight/);
    const shaped = await brokenDir('shaped', (t) => {
      t['model.layers.1.self_attn.o_proj.weight'] = { dtype: 'F32', shape: [64, 60], data: new Float32Array(64 * 60) };
    });
    await expect(DeepseekModel.load(shaped)).rejects.toThrow(/'model.layers.1.self_attn.o_proj.weight' has shape \[64, 60\], expected \[64, 64\]/);
    const ints = await brokenDir('ints', (t) => {
      t['model.norm.weight'] = { dtype: 'I32', shape: [64], data: new Int32Array(64) };
    });
    await expect(DeepseekModel.load(ints)).rejects.toThrow(/'model.norm.weight' has dtype I32/);
  });

  it('reports a missing or broken config.json with the file name', async () => {
    const dir = join(tmp, 'noconfig');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await expect(DeepseekModel.load(dir)).rejects.toThrow(/cannot read .*config.json/);
    writeFileSync(join(dir, 'config.json'), '{ not json');
    await expect(DeepseekModel.load(dir)).rejects.toThrow(/config.json: not valid JSON/);
  });

  it('drops MTP modules a checkpoint does not carry (convert.py output)', async () => {
    const config = presetConfig('tiny', { vocabSize: 40, dim: 16, interDim: 24, moeInterDim: 8, nHeads: 2, qLoraRank: 8, kvLoraRank: 8, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 4, nMtpModules: 0 });
    const model = DeepseekModel.create(config, { seed: 1 });
    const dir = join(tmp, 'nomtp');
    await model.save(dir);
    // Claim one MTP module in config.json without any of its tensors.
    const { readFile } = await import('node:fs/promises');
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, num_nextn_predict_layers: 1 }));
    const { config: read } = await readModelDir(dir);
    expect(read.nMtpModules).toBe(0);
    model.dispose();
  });
});
