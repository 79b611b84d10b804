/**
 * Largest |a − b| / (atol + rtol·|b|) over two arrays: ≤ 1 means every element is within
 * tolerance of the reference `b`. Different lengths and NaNs give Infinity.
 */
export function toleranceRatio(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const ratio = Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!));
    if (!(ratio <= worst)) worst = Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio;
  }
  return worst;
}
