/**
 * Translation of DeepSeek model.py tensor names (what inference/convert.py writes) to the
 * Hugging Face names the model uses internally (spec §8).
 */
const ATTN: Record<string, string> = {
  wq: 'q_proj',
  wq_a: 'q_a_proj',
  q_norm: 'q_a_layernorm',
  wq_b: 'q_b_proj',
  wkv_a: 'kv_a_proj_with_mqa',
  kv_norm: 'kv_a_layernorm',
  wkv_b: 'kv_b_proj',
  wo: 'o_proj',
};
const MLP: Record<string, string> = { w1: 'gate_proj', w2: 'down_proj', w3: 'up_proj' };

/** HF name for a model.py name, or undefined when it is not a model.py name. */
export function modelPyToHfName(name: string): string | undefined {
  if (name === 'embed.weight') return 'model.embed_tokens.weight';
  if (name === 'norm.weight') return 'model.norm.weight';
  if (name === 'head.weight') return 'lm_head.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return undefined;
  const layer = `model.layers.${m[1]}`;
  const rest = m[2]!;
  if (rest === 'attn_norm.weight') return `${layer}.input_layernorm.weight`;
  if (rest === 'ffn_norm.weight') return `${layer}.post_attention_layernorm.weight`;
  let a = /^attn\.(\w+)\.weight$/.exec(rest);
  if (a && ATTN[a[1]!]) return `${layer}.self_attn.${ATTN[a[1]!]}.weight`;
  if (rest === 'ffn.gate.weight') return `${layer}.mlp.gate.weight`;
  if (rest === 'ffn.gate.bias') return `${layer}.mlp.gate.e_score_correction_bias`;
  a = /^ffn\.(?:(experts\.\d+|shared_experts)\.)?(w[123])\.weight$/.exec(rest);
  if (a) return `${layer}.mlp.${a[1] ? `${a[1]}.` : ''}${MLP[a[2]!]}.weight`;
  return undefined;
}

/** True when the tensor set uses model.py naming (its embedding is `embed.weight`). */
export function usesModelPyNames(names: Iterable<string>): boolean {
  for (const n of names) if (n === 'embed.weight') return true;
  return false;
}
