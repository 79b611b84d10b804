import { tf } from '@deepline/core';
import { type DeepseekConfig, yarnEnabled } from './config.js';

const f32 = Math.fround;

/** The RoPE fields of a config (any attention that rotates pairs uses these). */
export type RopeConfig = Pick<
  DeepseekConfig,
  'qkRopeHeadDim' | 'ropeTheta' | 'maxSeqLen' | 'originalSeqLen' | 'ropeFactor' | 'betaFast' | 'betaSlow' | 'mscale' | 'ropeMscale'
>;

/** YaRN's attention temperature `0.1·mscale·ln(s) + 1` (1 for s ≤ 1). */
export function yarnMscale(factor: number, mscale: number): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

/**
 * Per-pair rotation frequencies `[dr/2]`, YaRN-corrected when maxSeqLen > originalSeqLen,
 * rounded at each step like model.py's float32 `precompute_freqs_cis` (spec §6).
 */
export function ropeFrequencies(config: RopeConfig): Float32Array {
  const dr = config.qkRopeHeadDim;
  const half = dr / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = f32(1 / f32(config.ropeTheta ** f32((2 * i) / dr)));
  if (!(config.maxSeqLen > config.originalSeqLen)) return freqs;
  const correction = (rotations: number) =>
    (dr * Math.log(config.originalSeqLen / (rotations * 2 * Math.PI))) / (2 * Math.log(config.ropeTheta));
  const low = Math.max(Math.floor(correction(config.betaFast)), 0);
  let high = Math.min(Math.ceil(correction(config.betaSlow)), dr - 1);
  if (low === high) high += 0.001;
  const span = f32(high - low);
  for (let i = 0; i < half; i++) {
    const ramp = Math.min(Math.max(f32(f32(i - low) / span), 0), 1);
    const smooth = f32(1 - ramp);
    const f = freqs[i]!;
    freqs[i] = f32(f32(f32(f / config.ropeFactor) * f32(1 - smooth)) + f32(f * smooth));
  }
  return freqs;
}

/** cos/sin of `position · freq` for positions startPos..startPos+length-1, each `[length, dr/2]`. */
export interface RopeTables {
  cos: Float32Array;
  sin: Float32Array;
  length: number;
  half: number;
}

/** Options of ropeTables. */
export interface RopeTablesOptions {
  config: RopeConfig;
  startPos: number;
  length: number;
  /** Precomputed ropeFrequencies(config) (computed when omitted). */
  frequencies?: Float32Array;
}

/**
 * Angle tables for a run of positions. HF's `rope_scaling.mscale` factor
 * m(s, ropeMscale)/m(s, mscale) scales cos/sin under YaRN (1 in released configs).
 */
export function ropeTables({ config, startPos, length, frequencies }: RopeTablesOptions): RopeTables {
  const freqs = frequencies ?? ropeFrequencies(config);
  const half = freqs.length;
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  const yarn = yarnEnabled(config as DeepseekConfig);
  const scale = yarn ? yarnMscale(config.ropeFactor, config.ropeMscale) / yarnMscale(config.ropeFactor, config.mscale) : 1;
  for (let s = 0; s < length; s++) {
    const p = startPos + s;
    for (let i = 0; i < half; i++) {
      const angle = f32(p * freqs[i]!);
      cos[s * half + i] = f32(Math.cos(angle) * scale);
      sin[s * half + i] = f32(Math.sin(angle) * scale);
    }
  }
  return { cos, sin, length, half };
}

/**
 * Rotates interleaved pairs `(x[2i], x[2i+1])` of the last axis by the tables' angles.
 * `x` is `[B, S, H, dr]` (H may be 1); the tables cover the S positions.
 *
 * out = x·cos + swap(x)·sin, where swap(x)[2i] = −x[2i+1] and swap(x)[2i+1] = x[2i] is a
 * matmul with a constant ±1 matrix (exact). This avoids splitting a size-2 axis, which
 * tfjs-wasm's SplitV does in a slow generic loop (seconds per training step).
 */
export function applyRope(x: tf.Tensor, tables: RopeTables): tf.Tensor {
  return tf.tidy(() => {
    const [b, s, h, dr] = x.shape as [number, number, number, number];
    const rotated = tf.reshape(tf.matMul(tf.reshape(x, [b * s * h, dr]), pairSwapMatrix(dr)), [b, s, h, dr]);
    const cos = tf.tensor(interleave(tables.cos, s, dr / 2), [1, s, 1, dr]);
    const sin = tf.tensor(interleave(tables.sin, s, dr / 2), [1, s, 1, dr]);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  });
}

function pairSwapMatrix(dr: number): tf.Tensor2D {
  const m = new Float32Array(dr * dr);
  for (let i = 0; i < dr; i += 2) {
    m[(i + 1) * dr + i] = -1; // column 2i takes −x[2i+1]
    m[i * dr + i + 1] = 1; // column 2i+1 takes x[2i]
  }
  return tf.tensor2d(m, [dr, dr]);
}

/** [S, half] angle table → [S, 2·half] with each value repeated for both members of its pair. */
function interleave(table: Float32Array, length: number, half: number): Float32Array {
  const out = new Float32Array(length * half * 2);
  for (let i = 0; i < length * half; i++) {
    out[2 * i] = table[i]!;
    out[2 * i + 1] = table[i]!;
  }
  return out;
}
