import type { tf } from '@deepline/core';
import { FUSED_KERNEL_NAMES } from '@deepline/kernels-wasm';
import type { NativeAddon } from './addon.js';
import { type WasmHeapBackend, heapBuffer, heapOf, offsetOf } from './nativeBatchMatMul.js';

type Info = tf.TensorInfo;
type Fallbacks = (kernelName: string) => tf.KernelFunc;

interface AttentionAttrs {
  scale: number;
  causal: boolean;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Native versions of @deepline/kernels-wasm's attention and SwiGLU kernels (same names,
 * inputs, attributes and outputs), computed in place on the wasm heap: attention runs each
 * (batch, head) as a task on the thread pool with the native GEMM and an AVX2 softmax.
 * Empty tensors go to the kernel underneath.
 */
export function nativeFusedKernels(addon: NativeAddon, fallback: Fallbacks): tf.KernelConfig[] {
  const params = new Float64Array(16);
  const attention: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { q, k, v } = args.inputs as { q: Info; k: Info; v: Info };
    const { scale, causal } = args.attrs as unknown as AttentionAttrs;
    const [batch, tq, heads, dim] = q.shape as [number, number, number, number];
    const tk = k.shape[1]!;
    if (batch * tq * tk * heads * dim === 0) return fallback(FUSED_KERNEL_NAMES.attention)(args);
    const out = backend.makeOutput([...q.shape], 'float32');
    const probs = backend.makeOutput([batch, heads, tq, tk], 'float32');
    const offsets = [q, k, v, out, probs].map((t) => offsetOf(backend, t));
    params.set([...offsets, batch, tq, tk, heads, dim, scale, causal ? 1 : 0]);
    addon.attentionForward(heapOf(backend), params);
    return [out, probs];
  };
  const attentionGrad: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { q, k, v, probs, dy } = args.inputs as {
      q: Info;
      k: Info;
      v: Info;
      probs: Info;
      dy: Info;
    };
    const { scale } = args.attrs as unknown as AttentionAttrs;
    const [batch, tq, heads, dim] = q.shape as [number, number, number, number];
    const tk = k.shape[1]!;
    if (batch * tq * tk * heads * dim === 0)
      return fallback(FUSED_KERNEL_NAMES.attentionGrad)(args);
    const grads = [q, k, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
    const offsets = [q, k, v, probs, dy, ...grads].map((t) => offsetOf(backend, t));
    params.set([...offsets, batch, tq, tk, heads, dim, scale]);
    addon.attentionBackward(heapOf(backend), params);
    return grads;
  };
  const siluMul: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { gate, up } = args.inputs as { gate: Info; up: Info };
    const n = sizeOf(gate.shape);
    if (n === 0) return fallback(FUSED_KERNEL_NAMES.siluMul)(args);
    const y = backend.makeOutput([...gate.shape], 'float32');
    params.set([offsetOf(backend, gate), offsetOf(backend, up), offsetOf(backend, y), n]);
    addon.siluMul(heapOf(backend), params);
    return y;
  };
  const siluMulGrad: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { gate, up, dy } = args.inputs as { gate: Info; up: Info; dy: Info };
    const n = sizeOf(gate.shape);
    if (n === 0) return fallback(FUSED_KERNEL_NAMES.siluMulGrad)(args);
    const dg = backend.makeOutput([...gate.shape], 'float32');
    const du = backend.makeOutput([...gate.shape], 'float32');
    params.set([...[gate, up, dy, dg, du].map((t) => offsetOf(backend, t)), n]);
    addon.siluMulBackward(heapOf(backend), params);
    return [dg, du];
  };
  const crossEntropy: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { logits, labels } = args.inputs as { logits: Info; labels: Info };
    const [n, vocab] = logits.shape as [number, number];
    if (n * vocab === 0) return fallback(FUSED_KERNEL_NAMES.crossEntropy)(args);
    // Same check and message as the wasm kernel, before anything is allocated.
    const ids = new Int32Array(heapBuffer(backend), offsetOf(backend, labels), n);
    const bad = ids.findIndex((label) => label < 0 || label >= vocab);
    if (bad >= 0)
      throw new Error(`crossEntropy: label ${ids[bad]} of row ${bad} is outside [0, ${vocab - 1}]`);
    const loss = backend.makeOutput([], 'float32');
    const probs = backend.makeOutput([n, vocab], 'float32');
    params.set([...[logits, labels, probs, loss].map((t) => offsetOf(backend, t)), n, vocab]);
    addon.crossEntropyForward(heapOf(backend), params);
    return [loss, probs];
  };
  const rmsNorm: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { x, weight } = args.inputs as { x: Info; weight: Info };
    const dim = x.shape[x.shape.length - 1]!;
    const rows = sizeOf(x.shape) / Math.max(dim, 1);
    if (rows * dim === 0) return fallback(FUSED_KERNEL_NAMES.rmsNorm)(args);
    const y = backend.makeOutput([...x.shape], 'float32');
    const rstd = backend.makeOutput(x.shape.slice(0, -1), 'float32');
    params.set([
      ...[x, weight, y, rstd].map((t) => offsetOf(backend, t)),
      rows,
      dim,
      (args.attrs as { eps: number }).eps,
    ]);
    addon.rmsNormForward(heapOf(backend), params);
    return [y, rstd];
  };
  const rmsNormGrad: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { x, weight, rstd, dy } = args.inputs as { x: Info; weight: Info; rstd: Info; dy: Info };
    const dim = x.shape[x.shape.length - 1]!;
    const rows = sizeOf(x.shape) / Math.max(dim, 1);
    if (rows * dim === 0) return fallback(FUSED_KERNEL_NAMES.rmsNormGrad)(args);
    const dx = backend.makeOutput([...x.shape], 'float32');
    const dw = backend.makeOutput([dim], 'float32');
    params.set([...[x, weight, rstd, dy, dx, dw].map((t) => offsetOf(backend, t)), rows, dim]);
    addon.rmsNormBackward(heapOf(backend), params);
    return [dx, dw];
  };
  const adam: tf.KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmHeapBackend;
    const { value, grad, m, v } = args.inputs as { value: Info; grad: Info; m: Info; v: Info };
    const { lr, beta1, beta2, epsilon, step } = args.attrs as {
      lr: number;
      beta1: number;
      beta2: number;
      epsilon: number;
      step: number;
    };
    const n = sizeOf(value.shape);
    if (n === 0) return fallback(FUSED_KERNEL_NAMES.adam)(args);
    const outs = [value, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
    const c1 = 1 / (1 - beta1 ** step);
    const c2 = 1 / (1 - beta2 ** step);
    params.set([
      ...[value, grad, m, v, ...outs].map((t) => offsetOf(backend, t)),
      n,
      lr,
      beta1,
      beta2,
      epsilon,
      c1,
      c2,
    ]);
    addon.adamStep(heapOf(backend), params);
    return outs;
  };
  const kernel = (kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig => ({
    kernelName,
    backendName: 'wasm',
    kernelFunc,
  });
  return [
    kernel(FUSED_KERNEL_NAMES.attention, attention),
    kernel(FUSED_KERNEL_NAMES.attentionGrad, attentionGrad),
    kernel(FUSED_KERNEL_NAMES.crossEntropy, crossEntropy),
    kernel(FUSED_KERNEL_NAMES.rmsNorm, rmsNorm),
    kernel(FUSED_KERNEL_NAMES.rmsNormGrad, rmsNormGrad),
    kernel(FUSED_KERNEL_NAMES.adam, adam),
    kernel(FUSED_KERNEL_NAMES.siluMul, siluMul),
    kernel(FUSED_KERNEL_NAMES.siluMulGrad, siluMulGrad),
  ];
}
