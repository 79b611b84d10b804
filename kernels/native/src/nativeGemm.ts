import { loadAddon } from './addon.js';
import { NativeKernelsError } from './errors.js';

/** Options of {@link nativeGemm}. */
export interface NativeGemmOptions {
  /** A, stored row-major as [m, k] (or [k, m] when `transposeA`). */
  a: Float32Array;
  /** B, stored row-major as [k, n] (or [n, k] when `transposeB`). */
  b: Float32Array;
  m: number;
  n: number;
  k: number;
  transposeA?: boolean;
  transposeB?: boolean;
  /** Output [m, n] to write (reused by benchmarks); a new array by default. */
  out?: Float32Array;
}

const params = new Float64Array(13);

function fail(field: string, message: string): never {
  throw new NativeKernelsError(`nativeGemm: ${message}`, {
    code: 'BAD_INPUT',
    context: { op: 'nativeGemm', field },
  });
}

/** C = op(A)·op(B) on plain Float32Arrays with the native GEMM (no tfjs involved). */
export function nativeGemm(options: NativeGemmOptions): Float32Array {
  const { a, b, m, n, k } = options;
  for (const [field, v] of [
    ['m', m],
    ['n', n],
    ['k', k],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      fail(field, `${field} must be a non-negative integer, got ${v}`);
  }
  if (a.length < m * k) fail('a', `a holds ${a.length} values, needs m·k = ${m * k}`);
  if (b.length < k * n) fail('b', `b holds ${b.length} values, needs k·n = ${k * n}`);
  const out = options.out ?? new Float32Array(m * n);
  if (out.length < m * n) fail('out', `out holds ${out.length} values, needs m·n = ${m * n}`);
  const { addon, reason } = loadAddon();
  if (!addon)
    throw new NativeKernelsError(`native kernels unavailable: ${reason}`, {
      code: 'NATIVE_UNAVAILABLE',
      context: { op: 'nativeGemm' },
    });
  const ta = options.transposeA ?? false;
  const tb = options.transposeB ?? false;
  params.set([0, 0, 0, m, n, k, ta ? 1 : k, ta ? m : 1, tb ? 1 : n, tb ? k : 1, n, 1, m * n]);
  if (m * n > 0) addon.gemm(a, b, out, params);
  return out;
}
