import type { tf } from '@deepline/core';
import { gemmWorkspaceBytes } from '../wasm/gemmWat.js';
import { type KernelArgs, align16, sizeOf, wasmContext } from './kernelUtils.js';

/** Names of deepline's own (non-tfjs) kernels. */
export const KERNEL = {
  rmsNorm: 'DeeplineRmsNorm',
  rmsNormGrad: 'DeeplineRmsNormGrad',
  siluMul: 'DeeplineSiluMul',
  siluMulGrad: 'DeeplineSiluMulGrad',
  rope: 'DeeplineRope',
  attention: 'DeeplineAttention',
  attentionGrad: 'DeeplineAttentionGrad',
  crossEntropy: 'DeeplineCrossEntropy',
  crossEntropyGrad: 'DeeplineCrossEntropyGrad',
  adam: 'DeeplineAdam',
} as const;

type Info = tf.TensorInfo;

/** RMSNorm forward: inputs {x, weight}, attrs {eps} → [y, rstd]. */
function rmsNorm(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, weight } = args.inputs as { x: Info; weight: Info };
  const dim = x.shape[x.shape.length - 1]!;
  const rows = sizeOf(x.shape) / dim;
  const y = backend.makeOutput([...x.shape], 'float32');
  const rstd = backend.makeOutput(x.shape.slice(0, -1), 'float32');
  instance.exports.rmsNormForward(ptr(x), ptr(weight), ptr(y), ptr(rstd), rows, dim, (args.attrs as { eps: number }).eps);
  return [y, rstd];
}

/** RMSNorm backward: inputs {x, weight, rstd, dy} → [dx, dweight]. */
function rmsNormGrad(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, weight, rstd, dy } = args.inputs as { x: Info; weight: Info; rstd: Info; dy: Info };
  const dim = x.shape[x.shape.length - 1]!;
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dw = backend.makeOutput([dim], 'float32');
  instance.exports.rmsNormBackward(ptr(x), ptr(weight), ptr(rstd), ptr(dy), ptr(dx), ptr(dw), sizeOf(x.shape) / dim, dim);
  return [dx, dw];
}

/** silu(gate) · up: inputs {gate, up} → y. */
function siluMul(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { gate, up } = args.inputs as { gate: Info; up: Info };
  const y = backend.makeOutput([...gate.shape], 'float32');
  instance.exports.siluMulForward(ptr(gate), ptr(up), ptr(y), sizeOf(gate.shape));
  return y;
}

/** Gradient of silu(gate)·up: inputs {gate, up, dy} → [dgate, dup]. */
function siluMulGrad(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { gate, up, dy } = args.inputs as { gate: Info; up: Info; dy: Info };
  const dg = backend.makeOutput([...gate.shape], 'float32');
  const du = backend.makeOutput([...gate.shape], 'float32');
  instance.exports.siluMulBackward(ptr(gate), ptr(up), ptr(dy), ptr(dg), ptr(du), sizeOf(gate.shape));
  return [dg, du];
}

/** Rotate-half RoPE: inputs {x [B,T,H,D], cos, sin [T,D/2]}, attrs {sign} → y. */
function rope(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { x, cos, sin } = args.inputs as { x: Info; cos: Info; sin: Info };
  const [batch, seq, heads, dim] = x.shape as [number, number, number, number];
  const y = backend.makeOutput([...x.shape], 'float32');
  instance.exports.rope(ptr(x), ptr(cos), ptr(sin), ptr(y), batch, seq, heads, dim, (args.attrs as { sign: number }).sign);
  return y;
}

interface AttentionAttrs {
  scale: number;
  causal: boolean;
}

/** Geometry of one attention call on [B, T, H, D] (queries) and [B, S, H, D] (keys/values). */
function attentionDims(q: Info, k: Info) {
  const [batch, tq, heads, dim] = q.shape as [number, number, number, number];
  const tk = k.shape[1]!;
  const row = heads * dim * 4;
  return { batch, tq, tk, heads, dim, row };
}

/**
 * Attention forward, per (batch, head): P = softmax(mask(Q·Kᵀ·scale)), O = P·V. Q/K/V are
 * read in place in [B, T, H, D] layout through strides: no transposes. → [out, probs].
 */
function attention(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { q, k, v } = args.inputs as { q: Info; k: Info; v: Info };
  const { scale, causal } = args.attrs as unknown as AttentionAttrs;
  const g = attentionDims(q, k);
  const work = instance.workspace(gemmWorkspaceBytes(Math.max(g.tk, g.dim)));
  const out = backend.makeOutput([...q.shape], 'float32');
  const probs = backend.makeOutput([g.batch, g.heads, g.tq, g.tk], 'float32');
  const [pq, pk, pv, po, pp] = [ptr(q), ptr(k), ptr(v), ptr(out), ptr(probs)];
  const { gemm, softmaxRows } = instance.exports;
  for (let b = 0; b < g.batch; b++) {
    for (let h = 0; h < g.heads; h++) {
      const qh = pq + (b * g.tq * g.heads + h) * g.dim * 4;
      const kh = pk + (b * g.tk * g.heads + h) * g.dim * 4;
      const vh = pv + (b * g.tk * g.heads + h) * g.dim * 4;
      const p = pp + (b * g.heads + h) * g.tq * g.tk * 4;
      gemm(qh, g.row, 4, kh, 4, g.row, p, g.tk * 4, g.tq, g.tk, g.dim, work);
      softmaxRows(p, g.tq, g.tk, g.tk * 4, scale, causal ? 1 : 0);
      gemm(p, g.tk * 4, 4, vh, g.row, 4, po + (b * g.tq * g.heads + h) * g.dim * 4, g.row, g.tq, g.dim, g.tk, work);
    }
  }
  return [out, probs];
}

/** Attention backward: inputs {q, k, v, probs, dy} → [dq, dk, dv]. */
function attentionGrad(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { q, k, v, probs, dy } = args.inputs as { q: Info; k: Info; v: Info; probs: Info; dy: Info };
  const { scale } = args.attrs as unknown as AttentionAttrs;
  const g = attentionDims(q, k);
  const gemmBytes = align16(gemmWorkspaceBytes(Math.max(g.tk, g.dim)));
  const work = instance.workspace(gemmBytes + g.tq * g.tk * 4 + 16);
  const tmp = (work + gemmBytes + 15) & ~15;
  const dq = backend.makeOutput([...q.shape], 'float32');
  const dk = backend.makeOutput([...k.shape], 'float32');
  const dv = backend.makeOutput([...v.shape], 'float32');
  const [pq, pk, pv, pp, pdy, pdq, pdk, pdv] = [q, k, v, probs, dy, dq, dk, dv].map(ptr) as number[];
  const { gemm, softmaxBackward } = instance.exports;
  for (let b = 0; b < g.batch; b++) {
    for (let h = 0; h < g.heads; h++) {
      const qo = (b * g.tq * g.heads + h) * g.dim * 4;
      const ko = (b * g.tk * g.heads + h) * g.dim * 4;
      const p = pp! + (b * g.heads + h) * g.tq * g.tk * 4;
      // dV = Pᵀ·dO ; dP = dO·Vᵀ ; dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale ; dQ = dS·K ; dK = dSᵀ·Q
      gemm(p, 4, g.tk * 4, pdy! + qo, g.row, 4, pdv! + ko, g.row, g.tk, g.dim, g.tq, work);
      gemm(pdy! + qo, g.row, 4, pv! + ko, 4, g.row, tmp, g.tk * 4, g.tq, g.tk, g.dim, work);
      softmaxBackward(p, tmp, g.tq, g.tk, g.tk * 4, scale);
      gemm(tmp, g.tk * 4, 4, pk! + ko, g.row, 4, pdq! + qo, g.row, g.tq, g.dim, g.tk, work);
      gemm(tmp, 4, g.tk * 4, pq! + qo, g.row, 4, pdk! + ko, g.row, g.tk, g.dim, g.tq, work);
    }
  }
  return [dq, dk, dv];
}

/** Cross-entropy forward: inputs {logits [n, V], labels [n]} → [mean loss (scalar), probs]. */
function crossEntropy(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { logits, labels } = args.inputs as { logits: Info; labels: Info };
  const [n, vocab] = logits.shape as [number, number];
  const labelView = backend.typedArrayFromHeap(labels) as Int32Array;
  const bad = labelView.findIndex((label) => label < 0 || label >= vocab);
  if (bad >= 0) throw new Error(`crossEntropy: label ${labelView[bad]} of row ${bad} is outside [0, ${vocab - 1}]`);
  const loss = backend.makeOutput([], 'float32');
  const probs = backend.makeOutput([n, vocab], 'float32');
  // Views are taken after makeOutput: malloc may grow (and detach) the heap.
  backend.wasm.HEAPU8.copyWithin(ptr(probs), ptr(logits), ptr(logits) + n * vocab * 4);
  instance.exports.softmaxRows(ptr(probs), n, vocab, vocab * 4, 1, 0);
  const p = backend.typedArrayFromHeap(probs) as Float32Array;
  const ids = backend.typedArrayFromHeap(labels) as Int32Array;
  let total = 0;
  for (let r = 0; r < n; r++) total -= Math.log(Math.max(p[r * vocab + ids[r]!]!, 1e-38));
  (backend.typedArrayFromHeap(loss) as Float32Array)[0] = n > 0 ? total / n : 0;
  return [loss, probs];
}

/** Cross-entropy backward: inputs {probs, labels, dy (scalar)} → dlogits = (p − onehot)·dy/n. */
function crossEntropyGrad(args: KernelArgs): Info {
  const { backend, instance, ptr } = wasmContext(args);
  const { probs, labels, dy } = args.inputs as { probs: Info; labels: Info; dy: Info };
  const [n, vocab] = probs.shape as [number, number];
  const out = backend.makeOutput([n, vocab], 'float32');
  const g = (backend.typedArrayFromHeap(dy) as Float32Array)[0]! / Math.max(n, 1);
  instance.exports.scaleCopy(ptr(probs), ptr(out), n * vocab, g);
  const d = backend.typedArrayFromHeap(out) as Float32Array;
  const ids = backend.typedArrayFromHeap(labels) as Int32Array;
  for (let r = 0; r < n; r++) d[r * vocab + ids[r]!]! -= g;
  return out;
}

/** One Adam step: inputs {value, grad, m, v}, attrs {lr, beta1, beta2, epsilon, step} → [value', m', v']. */
function adam(args: KernelArgs): Info[] {
  const { backend, instance, ptr } = wasmContext(args);
  const { value, grad, m, v } = args.inputs as { value: Info; grad: Info; m: Info; v: Info };
  const { lr, beta1, beta2, epsilon, step } = args.attrs as { lr: number; beta1: number; beta2: number; epsilon: number; step: number };
  const outs = [value, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
  const [ow, om, ov] = outs.map(ptr) as [number, number, number];
  const c1 = 1 / (1 - beta1 ** step);
  const c2 = 1 / (1 - beta2 ** step);
  instance.exports.adamStep(ptr(value), ptr(grad), ptr(m), ptr(v), ow, om, ov, sizeOf(value.shape), lr, beta1, beta2, epsilon, c1, c2);
  return outs;
}

const kernel = (kernelName: string, kernelFunc: (args: KernelArgs) => Info | Info[]): tf.KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: kernelFunc as unknown as tf.KernelFunc,
});

/** deepline's fused kernels for tfjs-wasm (reached through the ops in ../ops). */
export function fusedKernelConfigs(): tf.KernelConfig[] {
  return [
    kernel(KERNEL.rmsNorm, rmsNorm),
    kernel(KERNEL.rmsNormGrad, rmsNormGrad),
    kernel(KERNEL.siluMul, siluMul),
    kernel(KERNEL.siluMulGrad, siluMulGrad),
    kernel(KERNEL.rope, rope),
    kernel(KERNEL.attention, attention),
    kernel(KERNEL.attentionGrad, attentionGrad),
    kernel(KERNEL.crossEntropy, crossEntropy),
    kernel(KERNEL.crossEntropyGrad, crossEntropyGrad),
    kernel(KERNEL.adam, adam),
  ];
}
