import { SeededRandom, initBackend, tf } from '@deepline/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerKvCache } from '../kvCache.js';
import { maxAbsDiff } from '../testing/golden.js';
import { CrossAttention } from './crossAttention.js';
import { type GqaOptions, GroupedQueryAttention, hybridHeadWindows, hybridLayerWindows } from './gqa.js';

type Mat = { shape: number[]; data: Float32Array };

function host(store: { linear(n: string): { weightMatrix(): tf.Tensor2D } }, name: string): Mat {
  const w = store.linear(name).weightMatrix();
  return { shape: w.shape, data: w.dataSync() as Float32Array };
}

function matVec(w: Mat, x: number[]): number[] {
  const [out, inp] = w.shape as [number, number];
  return Array.from({ length: out }, (_, o) => {
    let acc = 0;
    for (let i = 0; i < inp; i++) acc += w.data[o * inp + i]! * x[i]!;
    return acc;
  });
}

function softmax(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => (v === Number.NEGATIVE_INFINITY ? 0 : Math.exp(v - m)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** float64 GQA for one sequence at positions 0..S-1, straight from the definition. */
function gqaReference(opts: GqaOptions, layer: GroupedQueryAttention, xs: number[][], bias?: Float32Array): number[][] {
  const { nHeads: H, nKvHeads: Hkv, headDim: hd } = opts;
  const p = layer.prefix;
  const [wq, wk, wv, wo] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => host(layer.store, `${p}.${n}.weight`)) as [Mat, Mat, Mat, Mat];
  const rot = (v: number[], pos: number) => {
    if (!opts.rope) return v;
    const out = [...v];
    for (let i = 0; i < hd / 2; i++) {
      const a = pos / opts.rope.theta ** ((2 * i) / hd);
      out[2 * i] = v[2 * i]! * Math.cos(a) - v[2 * i + 1]! * Math.sin(a);
      out[2 * i + 1] = v[2 * i]! * Math.sin(a) + v[2 * i + 1]! * Math.cos(a);
    }
    return out;
  };
  const q = xs.map((x, pos) => {
    const all = matVec(wq, x);
    return Array.from({ length: H }, (_, h) => rot(all.slice(h * hd, (h + 1) * hd), pos));
  });
  const k = xs.map((x, pos) => Array.from({ length: Hkv }, (_, g) => rot(matVec(wk, x).slice(g * hd, (g + 1) * hd), pos)));
  const v = xs.map((x) => Array.from({ length: Hkv }, (_, g) => matVec(wv, x).slice(g * hd, (g + 1) * hd)));
  const windows = Array.isArray(opts.window) ? opts.window : Array.from({ length: H }, () => opts.window as number | undefined);
  return xs.map((_, s) => {
    const o: number[] = [];
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      const scores = xs.map((__, t) => {
        const w = windows[h];
        if (t > s || (w !== undefined && s - t >= w)) return Number.NEGATIVE_INFINITY;
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[s]![h]![i]! * k[t]![g]![i]!;
        const rel = bias && opts.relativeBias ? bias[h * (opts.relativeBias.maxDistance + 1) + Math.min(s - t, opts.relativeBias.maxDistance)]! : 0;
        return dot / Math.sqrt(hd) + rel;
      });
      const pr = softmax(scores);
      for (let i = 0; i < hd; i++) o.push(pr.reduce((acc, pt, t) => acc + pt * v[t]![g]![i]!, 0));
    }
    return matVec(wo, o);
  });
}

const variants: { name: string; opts: GqaOptions }[] = [
  { name: 'multi-head with RoPE', opts: { dim: 16, nHeads: 4, nKvHeads: 4, headDim: 4, rope: { theta: 100, maxSeqLen: 64 } } },
  { name: 'grouped-query (4 q heads / 2 kv heads) with RoPE', opts: { dim: 16, nHeads: 4, nKvHeads: 2, headDim: 4, rope: { theta: 100, maxSeqLen: 64 } } },
  { name: 'sliding window 3', opts: { dim: 16, nHeads: 2, nKvHeads: 1, headDim: 8, rope: { theta: 1000, maxSeqLen: 64 }, window: 3 } },
  {
    name: 'hybrid: 2 local heads (window 2) + 2 global heads, learned relative bias',
    opts: { dim: 16, nHeads: 4, nKvHeads: 2, headDim: 4, window: hybridHeadWindows({ nHeads: 4, localHeads: 2, window: 2 }), relativeBias: { maxDistance: 4 } },
  },
];

describe('extra attention building blocks', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  for (const { name, opts } of variants) {
    it(`${name}: matches a float64 reference, and cached decoding equals the full pass`, () => {
      const layer = GroupedQueryAttention.create({ ...opts, seed: 2, std: 0.3 });
      let bias: Float32Array | undefined;
      if (opts.relativeBias) {
        const table = layer.store.param(`${layer.prefix}.relative_bias.weight`);
        table.assign(tf.randomNormal(table.shape, 0, 1, 'float32', 3));
        bias = table.dataSync() as Float32Array;
      }
      const rng = new SeededRandom(8);
      const S = 7;
      const seqs = [0, 1].map(() => Array.from({ length: S }, () => Array.from({ length: opts.dim }, () => rng.normal())));
      const x = tf.tensor3d(seqs);
      const full = layer.forward({ x });
      const expected = seqs.flatMap((seq) => gqaReference(opts, layer, seq, bias).flat());
      expect(maxAbsDiff(full.dataSync(), expected)).toBeLessThan(1e-4);
      // decode: prefill 4, then one position at a time
      const cache = new LayerKvCache();
      const parts = [layer.forward({ x: tf.slice(x, [0, 0, 0], [2, 4, opts.dim]), cache, startPos: 0 })];
      for (let p = 4; p < S; p++) parts.push(layer.forward({ x: tf.slice(x, [0, p, 0], [2, 1, opts.dim]), cache, startPos: p }));
      expect(maxAbsDiff(tf.concat(parts, 1).dataSync(), full.dataSync())).toBeLessThan(1e-5);
      cache.dispose();
      layer.dispose();
    });
  }

  it('relative bias and windows are differentiable where they should be', () => {
    const opts = variants[3]!.opts;
    const layer = GroupedQueryAttention.create({ ...opts, seed: 4, std: 0.3 });
    const x = tf.randomNormal([1, 5, opts.dim], 0, 1, 'float32', 5) as tf.Tensor3D;
    const table = layer.store.param(`${layer.prefix}.relative_bias.weight`);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.forward({ x }))) as tf.Scalar, [table]);
    const g = grads[table.name]!.dataSync();
    // distances ≥ 2 are unreachable for the window-2 heads 0 and 1: zero gradient there
    for (const h of [0, 1]) for (let d = 2; d <= 4; d++) expect(g[h * 5 + d]).toBe(0);
    // global heads see every distance 0..4
    for (const h of [2, 3]) for (let d = 0; d <= 4; d++) expect(Math.abs(g[h * 5 + d]!)).toBeGreaterThan(0);
    layer.dispose();
  });

  it('hybrid layer pattern helper and option validation', () => {
    expect(hybridLayerWindows({ nLayers: 6, globalEvery: 3, window: 128 })).toEqual([128, 128, undefined, 128, 128, undefined]);
    expect(() => GroupedQueryAttention.create({ dim: 8, nHeads: 4, nKvHeads: 3, headDim: 2 })).toThrow(/nKvHeads/);
    expect(() => GroupedQueryAttention.create({ dim: 8, nHeads: 2, nKvHeads: 2, headDim: 2, window: [1] })).toThrow(/one entry per head/);
  });

  it('cross-attention matches a float64 reference, honours the padding mask and reuses projected context', () => {
    const opts = { dim: 12, contextDim: 10, nHeads: 3, headDim: 4 };
    const layer = CrossAttention.create({ ...opts, seed: 6, std: 0.3 });
    const rng = new SeededRandom(1);
    const xs = Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => Array.from({ length: 12 }, () => rng.normal())));
    const ctx = Array.from({ length: 2 }, () => Array.from({ length: 5 }, () => Array.from({ length: 10 }, () => rng.normal())));
    const keep = [
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ];
    const [wq, wk, wv, wo] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => host(layer.store, `cross_attn.${n}.weight`)) as [Mat, Mat, Mat, Mat];
    const expected = xs.flatMap((seq, b) =>
      seq.flatMap((x) => {
        const q = matVec(wq, x);
        const ks = ctx[b]!.map((c) => matVec(wk, c));
        const vs = ctx[b]!.map((c) => matVec(wv, c));
        const o: number[] = [];
        for (let h = 0; h < 3; h++) {
          const scores = ks.map((k, m) => {
            if (!keep[b]![m]) return Number.NEGATIVE_INFINITY;
            let dot = 0;
            for (let i = 0; i < 4; i++) dot += q[h * 4 + i]! * k[h * 4 + i]!;
            return dot / 2;
          });
          const p = softmax(scores);
          for (let i = 0; i < 4; i++) o.push(p.reduce((acc, pm, m) => acc + pm * vs[m]![h * 4 + i]!, 0));
        }
        return matVec(wo, o);
      }),
    );
    const x = tf.tensor3d(xs);
    const context = tf.tensor3d(ctx);
    const contextMask = tf.tensor2d(keep);
    const out = layer.forward({ x, context, contextMask });
    expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-4);
    const kv = layer.projectContext(context, contextMask);
    expect(maxAbsDiff(layer.forward({ x, contextKv: kv }).dataSync(), out.dataSync())).toBe(0);
    expect(() => layer.projectContext(tf.zeros([2, 5, 9]) as tf.Tensor3D)).toThrow(/width 9, expected 10/);
    expect(() => layer.forward({ x })).toThrow(/needs context/);
    layer.dispose();
  });
});
