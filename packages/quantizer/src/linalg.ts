import { fail } from './errors.js';

/**
 * In-place lower Cholesky factor of a symmetric positive-definite `n×n` row-major matrix
 * (upper triangle zeroed). Returns false (matrix left partially overwritten) if a pivot
 * is not positive, so the caller can add damping and retry.
 */
export function choleskyLowerInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diag = a[rowJ + j]!;
    for (let k = 0; k < j; k++) diag -= a[rowJ + k]! * a[rowJ + k]!;
    if (!(diag > 0)) return false;
    const ljj = Math.sqrt(diag);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j]!;
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rowJ + k] = 0;
  }
  return true;
}

/** Inverse of a lower-triangular `n×n` matrix (forward substitution, column by column). */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * n + k]! * inv[k * n + j]!;
      inv[i * n + j] = -s / l[i * n + i]!;
    }
  }
  return inv;
}

/**
 * Upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ U), row-major, for a symmetric positive-definite H.
 * This is the matrix GPTQ walks row by row: U[i][i] scales column i's error and U[i][j>i]
 * spreads it over the columns not yet quantized.
 */
export function inverseUpperCholesky(h: Float64Array, n: number, name?: string): Float64Array {
  const l = Float64Array.from(h);
  if (!choleskyLowerInPlace(l, n)) {
    fail('HESSIAN_NOT_PD', `${name ?? 'weight'}: the damped Hessian is not positive definite`, { tensor: name });
  }
  const linv = invertLower(l, n);
  // H⁻¹ = L⁻ᵀ L⁻¹; entry (i, j) sums k ≥ max(i, j) because L⁻¹ is lower triangular.
  const hinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += linv[k * n + i]! * linv[k * n + j]!;
      hinv[i * n + j] = s;
      hinv[j * n + i] = s;
    }
  }
  if (!choleskyLowerInPlace(hinv, n)) {
    fail('HESSIAN_NOT_PD', `${name ?? 'weight'}: the inverse Hessian is numerically not positive definite`, { tensor: name });
  }
  // Transpose the lower factor in place into the upper one.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      hinv[i * n + j] = hinv[j * n + i]!;
      hinv[j * n + i] = 0;
    }
  }
  return hinv;
}
