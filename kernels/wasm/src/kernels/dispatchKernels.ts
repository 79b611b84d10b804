import { originalKernel, type tf } from '@deepline/core';
import { type KernelArgs, sizeOf, wasmContext } from './kernelUtils.js';

type Info = tf.TensorInfo;

function delegate(name: string, args: KernelArgs): Info | Info[] {
  const original = originalKernel(name, 'wasm');
  if (!original) throw new Error(`no stock wasm kernel '${name}' to delegate to`);
  return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as Info | Info[];
}

/**
 * UnsortedSegmentSum (GatherV2's gradient and the sparse-MoE combine) as SIMD row adds on
 * the heap. Non-float inputs go to the kernel that was registered before (core's JS one).
 */
function unsortedSegmentSum(args: KernelArgs): Info | Info[] {
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
  if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') return delegate('UnsortedSegmentSum', args);
  const { backend, instance, ptr } = wasmContext(args);
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const rows = sizeOf(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const out = backend.makeOutput([numSegments, ...innerShape], 'float32');
  instance.exports.segmentSum(ptr(x), ptr(segmentIds), ptr(out), rows, sizeOf(innerShape), numSegments);
  return out;
}

/**
 * GatherV2 along axis 0 (embedding lookup, MoE dispatch) as one memory.copy per row; other
 * axes and batch dims go to the stock kernel. Indices are bounds-checked like tfjs does.
 */
function gatherV2(args: KernelArgs): Info | Info[] {
  const { x, indices } = args.inputs as { x: Info; indices: Info };
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  const rank = x.shape.length;
  const normAxis = axis < 0 ? axis + rank : axis;
  if (normAxis !== 0 || (batchDims ?? 0) !== 0 || x.dtype === 'string' || x.dtype === 'complex64' || x.dtype === 'bool' || indices.dtype !== 'int32') {
    return delegate('GatherV2', args);
  }
  const { backend, instance, ptr } = wasmContext(args);
  const ids = backend.typedArrayFromHeap(indices);
  const rows = x.shape[0]!;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= rows) throw new Error(`GatherV2: index ${id} at position ${i} is outside [0, ${rows - 1}]`);
  }
  const innerShape = x.shape.slice(1);
  const out = backend.makeOutput([...indices.shape, ...innerShape], x.dtype);
  instance.exports.gatherRows(ptr(x), ptr(indices), ptr(out), ids.length, sizeOf(innerShape));
  return out;
}

/**
 * Identity without a copy: the output shares the input's heap buffer (reference counted,
 * as tfjs-cpu does). Stock tfjs-wasm mallocs and copies, and autodiff clones every tensor it
 * saves for the backward pass, so a training step paid for ~170 copies.
 */
function identity(args: KernelArgs): Info | Info[] {
  const { x } = args.inputs as { x: Info };
  if (x.dtype === 'string') return delegate('Identity', args);
  (args.backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Overrides of stock tfjs-wasm kernels: sparse dispatch and copy-free identity. */
export function dispatchKernelConfigs(): tf.KernelConfig[] {
  return [
    { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity as unknown as tf.KernelFunc },
    { kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc },
    { kernelName: 'GatherV2', backendName: 'wasm', kernelFunc: gatherV2 as unknown as tf.KernelFunc },
  ];
}
