import type { DeepseekConfig, HostTensor } from '@deepline/layers';
import { yarnEnabled } from '@deepline/layers';
import { fail } from '../errors.js';
import { GgmlType, encodeGgmlTensor } from './ggmlBlocks.js';
import type { GgufTensorInput, GgufValue } from './ggufWriter.js';

/** Tensor storage of an export: f32/f16 everywhere, or llama.cpp's Q8_0 / Q4_0 blocks. */
export type GgufExportType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

export const GGUF_EXPORT_TYPES: readonly GgufExportType[] = ['f32', 'f16', 'q8_0', 'q4_0'];

/** llama.cpp `llama_ftype` of each export type (`general.file_type`). */
const FILE_TYPE: Record<GgufExportType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/** HF per-block suffix → llama.cpp deepseek2 tensor name (after `blk.N.`). */
const BLOCK_NAMES: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.q_a_proj.weight': 'attn_q_a.weight',
  'self_attn.q_a_layernorm.weight': 'attn_q_a_norm.weight',
  'self_attn.q_b_proj.weight': 'attn_q_b.weight',
  'self_attn.kv_a_proj_with_mqa.weight': 'attn_kv_a_mqa.weight',
  'self_attn.kv_a_layernorm.weight': 'attn_kv_a_norm.weight',
  'self_attn.kv_b_proj.weight': 'attn_kv_b.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
  'mlp.gate.weight': 'ffn_gate_inp.weight',
  'mlp.gate.e_score_correction_bias': 'exp_probs_b.bias',
  'mlp.shared_experts.gate_proj.weight': 'ffn_gate_shexp.weight',
  'mlp.shared_experts.up_proj.weight': 'ffn_up_shexp.weight',
  'mlp.shared_experts.down_proj.weight': 'ffn_down_shexp.weight',
};

const TOP_NAMES: Record<string, string> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};

const EXPERT = /^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight$/;
const BLOCK = /^model\.layers\.(\d+)\.(.+)$/;

/**
 * The GGUF name of an HF DeepSeek tensor (llama.cpp `deepseek2` conventions), `undefined` for
 * tensors llama.cpp does not load (MTP blocks past `num_hidden_layers`), or `{ expert }` for
 * one routed expert's matrix, which is stacked into `blk.N.ffn_{gate,up,down}_exps.weight`.
 */
export function ggufTensorName(hfName: string, nLayers: number): string | { stacked: string; expert: number } | undefined {
  const top = TOP_NAMES[hfName];
  if (top) return top;
  const expert = EXPERT.exec(hfName);
  if (expert) {
    const layer = Number(expert[1]);
    if (layer >= nLayers) return undefined;
    return { stacked: `blk.${layer}.ffn_${expert[3]}_exps.weight`, expert: Number(expert[2]) };
  }
  const block = BLOCK.exec(hfName);
  if (block) {
    const layer = Number(block[1]);
    if (layer >= nLayers) return undefined;
    const suffix = BLOCK_NAMES[block[2]!];
    if (suffix) return `blk.${layer}.${suffix}`;
  }
  return fail('GGUF_TENSOR_NAME', `no deepseek2 GGUF name for tensor '${hfName}'`, { tensor: hfName });
}

/**
 * `general.*` and `deepseek2.*` metadata llama.cpp's deepseek2 loader reads. MLA is written
 * in its decompressed form (`attn_kv_b`, no `key_length_mla`), so llama.cpp runs ordinary
 * multi-head attention with head size `qk_nope + qk_rope`.
 */
export function deepseek2Metadata(config: DeepseekConfig, options: { type: GgufExportType; name?: string }): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const a = 'deepseek2';
  const out: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: a }],
    ['general.name', { type: 'string', value: options.name ?? 'deepline' }],
    ['general.file_type', u32(FILE_TYPE[options.type])],
    ['general.alignment', u32(32)],
  ];
  if (options.type === 'q8_0' || options.type === 'q4_0') out.push(['general.quantization_version', u32(2)]);
  out.push(
    [`${a}.vocab_size`, u32(config.vocabSize)],
    [`${a}.context_length`, u32(config.maxSeqLen)],
    [`${a}.embedding_length`, u32(config.dim)],
    [`${a}.block_count`, u32(config.nLayers)],
    [`${a}.feed_forward_length`, u32(config.interDim)],
    [`${a}.leading_dense_block_count`, u32(config.nDenseLayers)],
    [`${a}.attention.head_count`, u32(config.nHeads)],
    [`${a}.attention.head_count_kv`, u32(config.nHeads)],
    [`${a}.attention.key_length`, u32(config.qkNopeHeadDim + config.qkRopeHeadDim)],
    [`${a}.attention.value_length`, u32(config.vHeadDim)],
    [`${a}.attention.q_lora_rank`, u32(config.qLoraRank)],
    [`${a}.attention.kv_lora_rank`, u32(config.kvLoraRank)],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(config.rmsNormEps)],
    [`${a}.rope.dimension_count`, u32(config.qkRopeHeadDim)],
    [`${a}.rope.freq_base`, f32(config.ropeTheta)],
    [`${a}.expert_count`, u32(config.nRoutedExperts)],
    [`${a}.expert_used_count`, u32(config.nActivatedExperts)],
    [`${a}.expert_shared_count`, u32(config.nSharedExperts)],
    [`${a}.expert_feed_forward_length`, u32(config.moeInterDim)],
    [`${a}.expert_weights_scale`, f32(config.routeScale)],
    // DeepSeek renormalises the top-k weights for sigmoid scores only.
    [`${a}.expert_weights_norm`, { type: 'bool', value: config.scoreFunc === 'sigmoid' }],
    // llama_expert_gating_func_type: 1 softmax, 2 sigmoid.
    [`${a}.expert_gating_func`, u32(config.scoreFunc === 'softmax' ? 1 : 2)],
    [`${a}.expert_group_count`, u32(config.nExpertGroups)],
    [`${a}.expert_group_used_count`, u32(config.nLimitedGroups)],
  );
  if (yarnEnabled(config)) {
    out.push(
      [`${a}.rope.scaling.type`, { type: 'string', value: 'yarn' }],
      [`${a}.rope.scaling.factor`, f32(config.ropeFactor)],
      [`${a}.rope.scaling.original_context_length`, u32(config.originalSeqLen)],
      [`${a}.rope.scaling.yarn_beta_fast`, f32(config.betaFast)],
      [`${a}.rope.scaling.yarn_beta_slow`, f32(config.betaSlow)],
      // llama.cpp divides this key by 0.1 when loading (HF convert multiplies mscale_all_dim by 0.1).
      [`${a}.rope.scaling.yarn_log_multiplier`, f32(0.1 * config.mscale)],
    );
  }
  return out;
}

/** ggml type of one tensor under an export type. */
export function ggmlTypeFor(ggufName: string, shape: number[], type: GgufExportType): GgmlType {
  if (shape.length === 1 || type === 'f32') return GgmlType.F32;
  // The router is tiny and decides expert selection: llama.cpp's quantizer keeps it unquantized too.
  if (ggufName.endsWith('ffn_gate_inp.weight')) return GgmlType.F32;
  if (type === 'f16') return GgmlType.F16;
  if (shape[shape.length - 1]! % 32 !== 0) return GgmlType.F16;
  if (type === 'q4_0' && ggufName === 'output.weight') return GgmlType.Q8_0;
  return type === 'q8_0' ? GgmlType.Q8_0 : GgmlType.Q4_0;
}

/**
 * Converts HF-named float32 tensors into GGUF tensors (renamed, experts stacked into 3-D
 * `[E, out, in]` tensors, encoded as `type`), in llama.cpp's order: embeddings, blocks, output.
 */
export function deepseek2Tensors(config: DeepseekConfig, tensors: Map<string, HostTensor>, type: GgufExportType): GgufTensorInput[] {
  const plain = new Map<string, HostTensor>();
  const experts = new Map<string, (HostTensor | undefined)[]>();
  for (const [hfName, t] of tensors) {
    const target = ggufTensorName(hfName, config.nLayers);
    if (target === undefined) continue;
    if (typeof target === 'string') {
      plain.set(target, t);
      continue;
    }
    const list = experts.get(target.stacked) ?? new Array<HostTensor | undefined>(config.nRoutedExperts).fill(undefined);
    list[target.expert] = t;
    experts.set(target.stacked, list);
  }
  for (const [name, list] of experts) {
    const missing = list.indexOf(undefined);
    if (missing >= 0) fail('GGUF_TENSOR_MISSING', `${name}: expert ${missing} is missing`, { tensor: name });
    const first = list[0]!;
    const size = first.data.length;
    const data = new Float32Array(size * list.length);
    for (const [e, t] of list.entries()) data.set(t!.data, e * size);
    plain.set(name, { shape: [list.length, ...first.shape], data });
  }
  const order = (name: string): [number, number, string] => {
    if (name === 'token_embd.weight') return [0, 0, name];
    if (name.startsWith('blk.')) return [1, Number(name.split('.')[1]), name];
    return [2, name === 'output_norm.weight' ? 0 : 1, name];
  };
  const names = [...plain.keys()].sort((x, y) => {
    const [a1, a2, a3] = order(x);
    const [b1, b2, b3] = order(y);
    return a1 - b1 || a2 - b2 || (a3 < b3 ? -1 : a3 > b3 ? 1 : 0);
  });
  return names.map((name) => {
    const t = plain.get(name)!;
    const ggml = ggmlTypeFor(name, t.shape, type);
    return { name, shape: t.shape, type: ggml, data: encodeGgmlTensor(t.data, ggml) };
  });
}
