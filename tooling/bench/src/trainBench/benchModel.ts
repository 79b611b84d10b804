import { SeededRandom, tf } from '@deepline/core';
import { applyRope, attention, crossEntropy, rmsNorm, ropeTables, segmentSum, siluMul } from '@deepline/kernels-wasm';
import type { TrainBenchConfig } from './benchConfig.js';

// The benchmark model written with tfjs ops plus deepline's fused ops. With the kernel pack
// unregistered (or on a non-wasm backend) those ops fall back to their composed tfjs
// definitions, so the "without kernels" run is exactly what stock tfjs executes.

type Params = Map<string, tf.Variable>;

function initParams(cfg: TrainBenchConfig, seed: number): Params {
  const rng = new SeededRandom(seed);
  const params: Params = new Map();
  const add = (name: string, shape: number[], init: 'normal' | 'ones') => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = init === 'ones' ? new Float32Array(size).fill(1) : rng.normalArray(size, 0.02);
    const initial = tf.tensor(data, shape);
    params.set(name, tf.variable(initial, true, name));
    initial.dispose(); // the variable keeps its own reference to the buffer
  };
  const { dModel: d, heads: h, kvRank, vocab, mlpHidden, experts, expertHidden } = cfg;
  add('embed', [vocab, d], 'normal');
  for (let l = 0; l < 2; l++) {
    add(`l${l}.attnNorm`, [d], 'ones');
    add(`l${l}.wq`, [d, d], 'normal');
    add(`l${l}.wkvA`, [d, kvRank], 'normal');
    add(`l${l}.wkB`, [kvRank, d], 'normal');
    add(`l${l}.wvB`, [kvRank, d], 'normal');
    add(`l${l}.wo`, [d, d], 'normal');
    add(`l${l}.ffnNorm`, [d], 'ones');
  }
  void h;
  for (const p of ['gate', 'up']) add(`mlp.${p}`, [d, mlpHidden], 'normal');
  add('mlp.down', [mlpHidden, d], 'normal');
  add('router', [d, experts], 'normal');
  for (let e = 0; e <= experts; e++) {
    const name = e === experts ? 'shared' : `expert${e}`;
    for (const p of ['gate', 'up']) add(`${name}.${p}`, [d, expertHidden], 'normal');
    add(`${name}.down`, [expertHidden, d], 'normal');
  }
  add('finalNorm', [d], 'ones');
  add('head', [d, vocab], 'normal');
  return params;
}

/** The bench model: forward + loss, differentiable through tfjs autodiff. */
export class BenchModel {
  readonly params: Params;
  private readonly cos: tf.Tensor2D;
  private readonly sin: tf.Tensor2D;

  constructor(
    readonly cfg: TrainBenchConfig,
    seed = 0,
  ) {
    this.params = initParams(cfg, seed);
    const tables = ropeTables({ seq: cfg.seq, dim: cfg.dModel / cfg.heads });
    this.cos = tables.cos;
    this.sin = tables.sin;
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  private swiGlu(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    const hidden = siluMul({ gate: tf.matMul(x, this.p(`${prefix}.gate`)), up: tf.matMul(x, this.p(`${prefix}.up`)) });
    return tf.matMul(hidden as tf.Tensor2D, this.p(`${prefix}.down`));
  }

  private attention(x: tf.Tensor2D, l: number): tf.Tensor2D {
    const { batch: b, seq: t, heads: h, dModel: d } = this.cfg;
    const hd = d / h;
    const q = tf.reshape(tf.matMul(x, this.p(`l${l}.wq`)), [b, t, h, hd]) as tf.Tensor4D;
    const latent = tf.matMul(x, this.p(`l${l}.wkvA`));
    const k = tf.reshape(tf.matMul(latent, this.p(`l${l}.wkB`)), [b, t, h, hd]) as tf.Tensor4D;
    const v = tf.reshape(tf.matMul(latent, this.p(`l${l}.wvB`)), [b, t, h, hd]) as tf.Tensor4D;
    const qr = applyRope({ x: q, cos: this.cos, sin: this.sin });
    const kr = applyRope({ x: k, cos: this.cos, sin: this.sin });
    const out = attention({ q: qr, k: kr, v, causal: true });
    return tf.matMul(tf.reshape(out, [b * t, d]), this.p(`l${l}.wo`));
  }

  /** Sparse MoE: host routing table, gather → expert → scaled unsortedSegmentSum back. */
  private moe(x: tf.Tensor2D): tf.Tensor2D {
    const { experts, topK } = this.cfg;
    const n = x.shape[0];
    const probs = tf.softmax(tf.matMul(x, this.p('router')));
    const { indices } = tf.topk(probs, topK);
    const chosen = indices.dataSync();
    indices.dispose();
    const flatProbs = tf.reshape(probs, [-1]);
    let out = this.swiGlu(x, 'shared');
    for (let e = 0; e < experts; e++) {
      const tokens: number[] = [];
      for (let i = 0; i < n; i++) for (let j = 0; j < topK; j++) if (chosen[i * topK + j] === e) tokens.push(i);
      if (tokens.length === 0) continue;
      const ids = tf.tensor1d(tokens, 'int32');
      const weights = tf.gather(flatProbs, tf.tensor1d(tokens.map((i) => i * experts + e), 'int32'));
      const y = tf.mul(this.swiGlu(tf.gather(x, ids), `expert${e}`), tf.reshape(weights, [-1, 1]));
      out = tf.add(out, segmentSum({ x: y, segmentIds: ids, numSegments: n }));
    }
    return out;
  }

  /** Mean next-token cross-entropy of `tokens` [batch, seq+1]. */
  loss(tokens: tf.Tensor2D): tf.Scalar {
    const { batch: b, seq: t } = this.cfg;
    const inputs = tf.reshape(tf.slice(tokens, [0, 0], [b, t]), [-1]);
    const targets = tf.reshape(tf.slice(tokens, [0, 1], [b, t]), [-1]) as tf.Tensor1D;
    let x = tf.gather(this.p('embed'), inputs) as tf.Tensor2D;
    for (let l = 0; l < 2; l++) {
      x = tf.add(x, this.attention(rmsNorm({ x, weight: this.p(`l${l}.attnNorm`) }) as tf.Tensor2D, l));
      const h = rmsNorm({ x, weight: this.p(`l${l}.ffnNorm`) }) as tf.Tensor2D;
      x = tf.add(x, l === 0 ? this.swiGlu(h, 'mlp') : this.moe(h));
    }
    const logits = tf.matMul(rmsNorm({ x, weight: this.p('finalNorm') }) as tf.Tensor2D, this.p('head'));
    return crossEntropy({ logits: logits as tf.Tensor2D, labels: targets as tf.Tensor1D });
  }

  /** Parameter count (763,008 for the bench config). */
  parameterCount(): number {
    let total = 0;
    for (const v of this.params.values()) total += v.size;
    return total;
  }

  dispose(): void {
    tf.dispose([...this.params.values(), this.cos, this.sin]);
  }
}
