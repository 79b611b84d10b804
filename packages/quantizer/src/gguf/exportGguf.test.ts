import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { initBackend } from '@deepline/core';
import { DeepseekModel } from '@deepline/layers';
import { makeTempDir, removeDir } from '@deepline/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig, tinyTokenizerJson } from '../testing/fixtures.js';
import { dequantizeQ4_0 } from './ggmlBlocks.js';
import { exportGguf } from './exportGguf.js';
import { ggufTensorName } from './deepseek2Gguf.js';
import { tokenizerGgufMetadata } from './tokenizerMetadata.js';
import { quantizeModel } from '../quantizeModel.js';
import { readFile } from 'node:fs/promises';

let dir: string;
let model: DeepseekModel;
const config = tinyConfig({ nMtpModules: 1 });

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  dir = await makeTempDir('gguf-export-');
  model = DeepseekModel.create(config, { seed: 1 });
});
afterAll(async () => {
  model.dispose();
  await removeDir(dir);
});

describe('deepseek2 GGUF export', () => {
  it('writes the deepseek2 + tokenizer metadata and tensor table llama.cpp expects', async () => {
    const out = join(dir, 'm.gguf');
    const tokenizer = tinyTokenizerJson(config.vocabSize) as { added_tokens: { id: number }[] };
    const [bos, eos] = tokenizer.added_tokens.map((t) => t.id);
    const result = await exportGguf({ model, type: 'q4_0', tokenizer, out, name: 'tiny' });
    const parsed = await gguf(out, { allowLocalFile: true });
    const m = parsed.metadata as Record<string, unknown>;
    expect(m).toMatchObject({
      version: 3,
      'general.architecture': 'deepseek2',
      'general.name': 'tiny',
      'general.alignment': 32,
      'general.file_type': 2,
      'general.quantization_version': 2,
      'deepseek2.block_count': 2,
      'deepseek2.embedding_length': 64,
      'deepseek2.feed_forward_length': 128,
      'deepseek2.leading_dense_block_count': 1,
      'deepseek2.attention.head_count': 4,
      'deepseek2.attention.key_length': 24,
      'deepseek2.attention.value_length': 16,
      'deepseek2.attention.q_lora_rank': 32,
      'deepseek2.attention.kv_lora_rank': 32,
      'deepseek2.rope.dimension_count': 8,
      'deepseek2.expert_count': 8,
      'deepseek2.expert_used_count': 2,
      'deepseek2.expert_shared_count': 1,
      'deepseek2.expert_feed_forward_length': 32,
      'deepseek2.expert_weights_scale': 1,
      'deepseek2.expert_weights_norm': true,
      'deepseek2.expert_gating_func': 2,
      'deepseek2.expert_group_count': 2,
      'deepseek2.expert_group_used_count': 1,
      'tokenizer.ggml.model': 'gpt2',
      'tokenizer.ggml.pre': 'deepseek-v3',
      'tokenizer.ggml.bos_token_id': bos,
      'tokenizer.ggml.eos_token_id': eos,
    });
    expect((m['tokenizer.ggml.tokens'] as string[]).length).toBe(320);
    const types = m['tokenizer.ggml.token_type'] as number[];
    expect([types[0], types[bos!], types[319]]).toEqual([1, 3, 5]); // normal, control, unused padding
    expect((m['tokenizer.ggml.merges'] as string[])[0]).toMatch(/^\S+ \S+$/);
    const table = new Map(parsed.tensorInfos.map((t) => [t.name, { shape: t.shape.map(Number), dtype: t.dtype }]));
    expect(table.size).toBe(result.tensorCount);
    expect(table.get('token_embd.weight')).toEqual({ shape: [64, 320], dtype: 2 });
    expect(table.get('output.weight')).toEqual({ shape: [64, 320], dtype: 8 });
    expect(table.get('output_norm.weight')).toEqual({ shape: [64], dtype: 0 });
    expect(table.get('blk.0.ffn_gate.weight')).toEqual({ shape: [64, 128], dtype: 2 });
    expect(table.get('blk.0.attn_kv_b.weight')).toEqual({ shape: [32, 4 * 32], dtype: 2 });
    expect(table.get('blk.1.ffn_gate_inp.weight')).toEqual({ shape: [64, 8], dtype: 0 });
    expect(table.get('blk.1.exp_probs_b.bias')).toEqual({ shape: [8], dtype: 0 });
    expect(table.get('blk.1.ffn_gate_exps.weight')).toEqual({ shape: [64, 32, 8], dtype: 2 });
    expect(table.get('blk.1.ffn_down_exps.weight')).toEqual({ shape: [32, 64, 8], dtype: 2 });
    expect(table.get('blk.1.ffn_up_shexp.weight')).toEqual({ shape: [64, 32], dtype: 2 });
    // The MTP block (model.layers.2) is not part of llama.cpp's graph.
    expect([...table.keys()].some((n) => n.startsWith('blk.2.'))).toBe(false);

    // Expert 5 of the stacked tensor holds experts.5.up_proj, as Q4_0 of the same values.
    const bytes = await readFile(out);
    const info = parsed.tensorInfos.find((t) => t.name === 'blk.1.ffn_up_exps.weight')!;
    const perExpert = (32 * 64 * 18) / 32;
    const start = Number(parsed.tensorDataOffset + info.offset) + 5 * perExpert;
    const decoded = dequantizeQ4_0(new Uint8Array(bytes.subarray(start, start + perExpert)));
    const original = model.hostTensors().get('model.layers.1.mlp.experts.5.up_proj.weight')!.data;
    for (let i = 0; i < original.length; i += 97) expect(Math.abs(decoded[i]! - original[i]!)).toBeLessThan(0.01);
  });

  it('re-encodes a symmetric int4-g32 model as Q4_0 without any further loss', async () => {
    const q = DeepseekModel.create(tinyConfig(), { seed: 2 });
    quantizeModel({ model: q, scheme: 'int4-g32' });
    const out = join(dir, 'q4.gguf');
    await exportGguf({ model: q, type: 'q4_0', tokenizer: tinyTokenizerJson(320), out });
    const parsed = await gguf(out, { allowLocalFile: true });
    const bytes = await readFile(out);
    const info = parsed.tensorInfos.find((t) => t.name === 'blk.0.attn_q_b.weight')!;
    const expected = q.hostTensors().get('model.layers.0.self_attn.q_b_proj.weight')!.data;
    const start = Number(parsed.tensorDataOffset + info.offset);
    const decoded = dequantizeQ4_0(new Uint8Array(bytes.subarray(start, start + (expected.length / 32) * 18)));
    expect([...decoded]).toEqual([...expected]);
    q.dispose();
  });

  it('maps HF names to llama.cpp names and rejects unknown tensors', () => {
    expect(ggufTensorName('model.layers.3.self_attn.kv_a_proj_with_mqa.weight', 4)).toBe('blk.3.attn_kv_a_mqa.weight');
    expect(ggufTensorName('model.layers.0.mlp.experts.7.down_proj.weight', 4)).toEqual({ stacked: 'blk.0.ffn_down_exps.weight', expert: 7 });
    expect(ggufTensorName('model.layers.4.eh_proj.weight', 4)).toBeUndefined();
    expect(() => ggufTensorName('model.layers.0.self_attn.rotary.weight', 4)).toThrow(/no deepseek2 GGUF name/);
  });

  it('refuses unknown pre-tokenizers and tokenizers larger than the model vocabulary', async () => {
    const tok = tinyTokenizerJson(320);
    await expect(tokenizerGgufMetadata({ tokenizer: tok, vocabSize: 320, pre: 'my-regex' })).rejects.toThrow(/unknown to llama.cpp/);
    await expect(tokenizerGgufMetadata({ tokenizer: tok, vocabSize: 300 })).rejects.toThrow(/outside the model vocabulary/);
    await expect(tokenizerGgufMetadata({ tokenizer: { model: { type: 'Unigram' } }, vocabSize: 10 })).rejects.toThrow(/model.type must be 'BPE'/);
    await expect(exportGguf({ model, type: 'q5_k' as never, tokenizer: tok, out: join(dir, 'x.gguf') })).rejects.toThrow(/GGUF type must be one of/);
  });
});
