/** WAT of the fused element-wise / reduction kernels. */
export function opsWat(): string {
  return '';
}
