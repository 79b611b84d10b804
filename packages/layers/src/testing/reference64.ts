// Test-only: an independent float64 implementation of the DeepSeek-V3 spec
// (deepseek-v3-architecture.md §2–§9) written with plain loops, used as the truth for
// configurations the model.py golden does not cover (query LoRA, sigmoid + bias, groups, YaRN, MTP).
import type { DeepseekConfig } from '../config.js';
import type { HostTensor } from '../modelIo.js';

type Vec = Float64Array;

export interface Reference64Output {
  /** [B][S] → logits (V). */
  logits: Vec[][];
  /** Per MoE layer (main then MTP): per flattened token row, selected experts and weights. */
  routing: { layer: number; indices: number[][]; weights: number[][] }[];
  /** [k][B][S-k-1]: MTP logits. */
  mtp: Vec[][][];
}

class Weights {
  constructor(private readonly map: Map<string, HostTensor>) {}
  get(name: string): HostTensor {
    const t = this.map.get(name);
    if (!t) throw new Error(`reference64: missing ${name}`);
    return t;
  }
  /** y = W x with W [out, in] row-major. */
  linear(name: string, x: Vec): Vec {
    const w = this.get(name);
    const [out, inp] = w.shape as [number, number];
    if (x.length !== inp) throw new Error(`reference64: ${name} expects ${inp} inputs, got ${x.length}`);
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let i = 0; i < inp; i++) acc += w.data[o * inp + i]! * x[i]!;
      y[o] = acc;
    }
    return y;
  }
  norm(name: string, x: Vec, eps: number): Vec {
    const w = this.get(name).data;
    let ms = 0;
    for (const v of x) ms += v * v;
    const r = 1 / Math.sqrt(ms / x.length + eps);
    return x.map((v, i) => v * r * w[i]!);
  }
}

function yarnM(factor: number, mscale: number): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

/** Angles per position and pair (spec §6), float64. */
function angles(c: DeepseekConfig, positions: number): number[][] {
  const dr = c.qkRopeHeadDim;
  const freqs: number[] = [];
  for (let i = 0; i < dr / 2; i++) freqs.push(1 / c.ropeTheta ** ((2 * i) / dr));
  if (c.maxSeqLen > c.originalSeqLen) {
    const corr = (n: number) => (dr * Math.log(c.originalSeqLen / (n * 2 * Math.PI))) / (2 * Math.log(c.ropeTheta));
    const low = Math.max(Math.floor(corr(c.betaFast)), 0);
    let high = Math.min(Math.ceil(corr(c.betaSlow)), dr - 1);
    if (low === high) high += 0.001;
    for (let i = 0; i < dr / 2; i++) {
      const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      const smooth = 1 - ramp;
      freqs[i] = (freqs[i]! / c.ropeFactor) * (1 - smooth) + freqs[i]! * smooth;
    }
  }
  return Array.from({ length: positions }, (_, p) => freqs.map((f) => p * f));
}

function rope(x: Vec, angle: number[], scale: number): Vec {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length / 2; i++) {
    const cos = Math.cos(angle[i]!) * scale;
    const sin = Math.sin(angle[i]!) * scale;
    y[2 * i] = x[2 * i]! * cos - x[2 * i + 1]! * sin;
    y[2 * i + 1] = x[2 * i]! * sin + x[2 * i + 1]! * cos;
  }
  return y;
}

function softmax(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function add(a: Vec, b: Vec): Vec {
  return a.map((v, i) => v + b[i]!);
}

/** Naive MLA over one sequence (spec §5), causal, positions 0..S-1. */
function attention(c: DeepseekConfig, w: Weights, prefix: string, xs: Vec[]): Vec[] {
  const S = xs.length;
  const H = c.nHeads;
  const dn = c.qkNopeHeadDim;
  const dr = c.qkRopeHeadDim;
  const dv = c.vHeadDim;
  const dq = dn + dr;
  const yarn = c.maxSeqLen > c.originalSeqLen;
  const ropeScale = yarn ? yarnM(c.ropeFactor, c.ropeMscale) / yarnM(c.ropeFactor, c.mscale) : 1;
  const scale = dq ** -0.5 * (yarn ? yarnM(c.ropeFactor, c.mscale) ** 2 : 1);
  const ang = angles(c, S);
  const qs: Vec[][] = [];
  const ks: Vec[][] = [];
  const vs: Vec[][] = [];
  for (let s = 0; s < S; s++) {
    const x = xs[s]!;
    const q =
      c.qLoraRank === 0
        ? w.linear(`${prefix}.q_proj.weight`, x)
        : w.linear(`${prefix}.q_b_proj.weight`, w.norm(`${prefix}.q_a_layernorm.weight`, w.linear(`${prefix}.q_a_proj.weight`, x), c.rmsNormEps));
    const kv = w.linear(`${prefix}.kv_a_proj_with_mqa.weight`, x);
    const latent = w.norm(`${prefix}.kv_a_layernorm.weight`, kv.slice(0, c.kvLoraRank), c.rmsNormEps);
    const kPe = rope(kv.slice(c.kvLoraRank), ang[s]!, ropeScale);
    const kvb = w.linear(`${prefix}.kv_b_proj.weight`, latent);
    const qh: Vec[] = [];
    const kh: Vec[] = [];
    const vh: Vec[] = [];
    for (let h = 0; h < H; h++) {
      const qHead = q.slice(h * dq, (h + 1) * dq);
      const full = new Float64Array(dq);
      full.set(qHead.slice(0, dn), 0);
      full.set(rope(qHead.slice(dn), ang[s]!, ropeScale), dn);
      qh.push(full);
      const block = kvb.slice(h * (dn + dv), (h + 1) * (dn + dv));
      const k = new Float64Array(dq);
      k.set(block.slice(0, dn), 0);
      k.set(kPe, dn);
      kh.push(k);
      vh.push(block.slice(dn));
    }
    qs.push(qh);
    ks.push(kh);
    vs.push(vh);
  }
  const out: Vec[] = [];
  for (let s = 0; s < S; s++) {
    const o = new Float64Array(H * dv);
    for (let h = 0; h < H; h++) {
      const scores: number[] = [];
      for (let t = 0; t <= s; t++) {
        let dot = 0;
        for (let i = 0; i < dq; i++) dot += qs[s]![h]![i]! * ks[t]![h]![i]!;
        scores.push(dot * scale);
      }
      const p = softmax(scores);
      for (let t = 0; t <= s; t++) for (let i = 0; i < dv; i++) o[h * dv + i]! += p[t]! * vs[t]![h]![i]!;
    }
    out.push(w.linear(`${prefix}.o_proj.weight`, o));
  }
  return out;
}

function mlp(w: Weights, prefix: string, x: Vec): Vec {
  const g = w.linear(`${prefix}.gate_proj.weight`, x);
  const u = w.linear(`${prefix}.up_proj.weight`, x);
  const act = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]!);
  return w.linear(`${prefix}.down_proj.weight`, act);
}

/** Gate + experts for one token (spec §7). */
function moe(c: DeepseekConfig, w: Weights, prefix: string, x: Vec): { y: Vec; indices: number[]; weights: number[] } {
  const E = c.nRoutedExperts;
  const logits = Array.from(w.linear(`${prefix}.gate.weight`, x));
  const scores = c.scoreFunc === 'softmax' ? softmax(logits) : logits.map((v) => 1 / (1 + Math.exp(-v)));
  const bias = c.useCorrectionBias ? w.get(`${prefix}.gate.e_score_correction_bias`).data : undefined;
  const sel = scores.map((v, e) => v + (bias ? bias[e]! : 0));
  if (c.nExpertGroups > 1) {
    const gs = E / c.nExpertGroups;
    const groupScore: number[] = [];
    for (let g = 0; g < c.nExpertGroups; g++) {
      const members = sel.slice(g * gs, (g + 1) * gs).sort((a, b) => b - a);
      groupScore.push(bias ? members[0]! + members[1]! : members[0]!);
    }
    const order = groupScore.map((v, g) => [v, g] as const).sort((a, b) => b[0] - a[0]);
    const kept = new Set(order.slice(0, c.nLimitedGroups).map((o) => o[1]));
    for (let e = 0; e < E; e++) if (!kept.has(Math.floor(e / gs))) sel[e] = Number.NEGATIVE_INFINITY;
  }
  const indices = sel
    .map((v, e) => [v, e] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, c.nActivatedExperts)
    .map((o) => o[1]);
  let weights = indices.map((e) => scores[e]!);
  if (c.scoreFunc === 'sigmoid') {
    const total = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((v) => v / total);
  }
  weights = weights.map((v) => v * c.routeScale);
  let y: Vec = new Float64Array(c.dim);
  indices.forEach((e, k) => {
    const out = mlp(w, `${prefix}.experts.${e}`, x);
    y = y.map((v, i) => v + weights[k]! * out[i]!);
  });
  if (c.nSharedExperts > 0) y = add(y, mlp(w, `${prefix}.shared_experts`, x));
  return { y, indices, weights };
}

/** One pre-norm block over a sequence. */
function block(
  c: DeepseekConfig,
  w: Weights,
  prefix: string,
  isMoe: boolean,
  hs: Vec[],
  route: (indices: number[], weights: number[]) => void,
): Vec[] {
  const attnIn = hs.map((h) => w.norm(`${prefix}.input_layernorm.weight`, h, c.rmsNormEps));
  const attnOut = attention(c, w, `${prefix}.self_attn`, attnIn);
  const mid = hs.map((h, s) => add(h, attnOut[s]!));
  return mid.map((h) => {
    const x = w.norm(`${prefix}.post_attention_layernorm.weight`, h, c.rmsNormEps);
    if (!isMoe) return add(h, mlp(w, `${prefix}.mlp`, x));
    const r = moe(c, w, `${prefix}.mlp`, x);
    route(r.indices, r.weights);
    return add(h, r.y);
  });
}

/** Full forward of every sequence (tokens [B][S]) in float64. */
export function reference64Forward(config: DeepseekConfig, tensors: Map<string, HostTensor>, tokens: number[][]): Reference64Output {
  const c = config;
  const w = new Weights(tensors);
  const embed = w.get('model.embed_tokens.weight').data;
  const emb = (t: number) => Float64Array.from(embed.subarray(t * c.dim, (t + 1) * c.dim));
  const nMoe = c.nLayers - c.nDenseLayers + c.nMtpModules;
  const routing = Array.from({ length: nMoe }, (_, i) => ({
    layer: c.nDenseLayers + i,
    indices: [] as number[][],
    weights: [] as number[][],
  }));
  const logits: Vec[][] = [];
  const mtp: Vec[][][] = Array.from({ length: c.nMtpModules }, () => []);
  for (const seq of tokens) {
    let hs: Vec[] = seq.map(emb);
    for (let l = 0; l < c.nLayers; l++) {
      const slot = routing[l - c.nDenseLayers];
      hs = block(c, w, `model.layers.${l}`, l >= c.nDenseLayers, hs, (i, wt) => {
        slot!.indices.push(i);
        slot!.weights.push(wt);
      });
    }
    const normed = hs.map((h) => w.norm('model.norm.weight', h, c.rmsNormEps));
    logits.push(normed.map((h) => w.linear('lm_head.weight', h)));
    let previous = normed;
    for (let k = 1; k <= c.nMtpModules; k++) {
      const p = `model.layers.${c.nLayers + k - 1}`;
      const len = seq.length - k;
      if (len <= 0) break;
      const inputs: Vec[] = [];
      for (let i = 0; i < len; i++) {
        const e = w.norm(`${p}.enorm.weight`, emb(seq[i + k]!), c.rmsNormEps);
        const h = w.norm(`${p}.hnorm.weight`, previous[i]!, c.rmsNormEps);
        const joined = new Float64Array(2 * c.dim);
        joined.set(e, 0);
        joined.set(h, c.dim);
        inputs.push(w.linear(`${p}.eh_proj.weight`, joined));
      }
      const slot = routing[c.nLayers - c.nDenseLayers + k - 1]!;
      const out = block(c, w, p, true, inputs, (i, wt) => {
        slot.indices.push(i);
        slot.weights.push(wt);
      });
      mtp[k - 1]!.push(out.map((h) => w.linear('lm_head.weight', w.norm(`${p}.shared_head.norm.weight`, h, c.rmsNormEps))));
      previous = out;
    }
  }
  return { logits, routing, mtp };
}
