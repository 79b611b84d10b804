import { tf } from '../tf.js';

/** Inputs of a fused RMSNorm: `weight ⊙ x / sqrt(mean(x², last axis) + eps)`. */
export interface FusedRmsNormInputs {
  /** Input `[..., n]`, float32. */
  x: tf.Tensor;
  /** Per-channel gain `[n]`. */
  weight: tf.Tensor;
  /** Added to the mean square (required: callers pass their model's value). */
  eps: number;
}

/** Inputs of a fused SwiGLU gate: `silu(gate) ⊙ up = gate · sigmoid(gate) · up`. */
export interface FusedSiluMulInputs {
  /** Gate projection, float32. */
  gate: tf.Tensor;
  /** Up projection, same shape as gate. */
  up: tf.Tensor;
}

/**
 * Inputs of fused scaled dot-product attention on `[batch, seq, heads, dim]` tensors:
 * `softmax(mask(q·kᵀ · scale)) · v`, with q, k and v of the same head dim.
 */
export interface FusedAttentionInputs {
  /** Queries `[B, Tq, H, D]`. */
  q: tf.Tensor4D;
  /** Keys `[B, Tk, H, D]`. */
  k: tf.Tensor4D;
  /** Values `[B, Tk, H, D]`. */
  v: tf.Tensor4D;
  /** When true, query i sees keys j ≤ i + Tk − Tq (a KV cache holds the first Tk − Tq); else all keys. */
  causal: boolean;
  /** Multiplies the scores before the softmax (> 0). */
  scale: number;
}

/** Inputs of a fused mean softmax cross-entropy: `mean_i(−log softmax(logits_i)[labels_i])`. */
export interface FusedCrossEntropyInputs {
  /** Unnormalised scores `[n, vocab]`, float32. */
  logits: tf.Tensor2D;
  /** int32 class of each row `[n]`, in `[0, vocab)`. */
  labels: tf.Tensor1D;
}

/**
 * The fused ops a kernel package may provide, by name, with their contracts. Every
 * implementation must be differentiable (w.r.t. all float inputs) and equal the composed
 * definition above within float32 rounding; it returns the output of the documented shape
 * (`x`'s, `gate`'s, `q`'s, a scalar).
 */
export interface FusedOpContracts {
  rmsNorm: (inputs: FusedRmsNormInputs) => tf.Tensor;
  siluMul: (inputs: FusedSiluMulInputs) => tf.Tensor;
  attention: (inputs: FusedAttentionInputs) => tf.Tensor4D;
  crossEntropy: (inputs: FusedCrossEntropyInputs) => tf.Scalar;
}

/** Name of a fused op. */
export type FusedOpName = keyof FusedOpContracts;

const registry = new Map<string, Map<string, unknown>>();

/**
 * Registers `impl` as fused op `name` for tfjs backend `backendName` (kernel packages do this;
 * model code looks it up with {@link fusedOp}, so models never import a kernel package).
 * Replaces an earlier registration of the same name and backend.
 */
export function registerFusedOp<N extends FusedOpName>(name: N, backendName: string, impl: FusedOpContracts[N]): void {
  const byBackend = registry.get(name) ?? new Map<string, unknown>();
  byBackend.set(backendName, impl);
  registry.set(name, byBackend);
}

/** Removes fused op `name` for `backendName` (no-op when absent). */
export function unregisterFusedOp(name: FusedOpName, backendName: string): void {
  registry.get(name)?.delete(backendName);
}

/**
 * The implementation of fused op `name` for the active tfjs backend, or undefined when none
 * is registered (callers then run their composed tfjs ops).
 */
export function fusedOp<N extends FusedOpName>(name: N): FusedOpContracts[N] | undefined {
  const byBackend = registry.get(name);
  if (!byBackend || byBackend.size === 0) return undefined;
  let backendName: string | undefined;
  try {
    backendName = tf.engine().backendName ?? undefined;
  } catch {
    return undefined;
  }
  return backendName === undefined ? undefined : (byBackend.get(backendName) as FusedOpContracts[N] | undefined);
}

/** Registered fused ops as `{name, backend}` pairs (diagnostics). */
export function listFusedOps(): { name: string; backend: string }[] {
  return [...registry].flatMap(([name, byBackend]) => [...byBackend.keys()].map((backend) => ({ name, backend })));
}
