// Types shared by the GEMM driver, the per-ISA kernel translation units and the N-API layer.
// Nothing here is ISA-specific, so every translation unit may include it.
#pragma once

#include <cstddef>

namespace deepline {

// One float32 GEMM C = A·B with A logically [m, k] and B logically [k, n]; element (i, p) of A
// lives at a[i*rsa + p*csa] (likewise B), so transposed operands are read through strides.
// C is row-major with row stride ldc and unit column stride.
struct GemmProblem {
  const float* a;
  std::ptrdiff_t rsa;
  std::ptrdiff_t csa;
  const float* b;
  std::ptrdiff_t rsb;
  std::ptrdiff_t csb;
  float* c;
  std::ptrdiff_t ldc;
  std::ptrdiff_t m;
  std::ptrdiff_t n;
  std::ptrdiff_t k;
};

// y[j] = sum_p x[p*incx] * B(p, j) for j < n, y contiguous. B(p, j) = b[p*rsb + j*csb].
struct GemvProblem {
  const float* x;
  std::ptrdiff_t incx;
  const float* b;
  std::ptrdiff_t rsb;
  std::ptrdiff_t csb;
  float* y;
  std::ptrdiff_t n;
  std::ptrdiff_t k;
};

// A micro-kernel family compiled for one instruction set.
struct KernelInfo {
  const char* name;
  int mr;               // rows of the register tile
  int nr;               // columns of the register tile
  std::ptrdiff_t mc;    // rows of A packed per block (L2-resident)
  std::ptrdiff_t kc;    // depth of one packed block (the micro-panels stay in L1)
  std::ptrdiff_t nc;    // columns of B packed per block
  // Packed blocked GEMM on one problem; apack holds >= mc*kc + 64 floats, bpack >= kc*nc + 64.
  void (*gemm)(const GemmProblem& problem, float* apack, float* bpack);
  // GEMV for problems with unit x stride and either unit row or unit column stride of B;
  // returns false (having done nothing) for other layouts.
  bool (*gemv)(const GemvProblem& problem);
  // Row softmax of s*scale in place (row stride ld floats). With visible0 >= 0 (a causal
  // mask), row r keeps its first min(cols, max(0, visible0 + r)) columns and the others become
  // exactly 0; visible0 < 0 keeps every column.
  void (*softmax_rows)(float* s, long rows, long cols, long ld, float scale, long visible0);
  // dp <- p * (dp - sum(dp * p)) * scale per row, in place on dp.
  void (*softmax_backward)(const float* p, float* dp, long rows, long cols, long ld, float scale);
  // y = silu(g) * u, and its gradient (dg, du) for dy.
  void (*silu_mul)(const float* g, const float* u, float* y, long n);
  void (*silu_mul_backward)(const float* g, const float* u, const float* dy, float* dg, float* du, long n);
  // Adam (tfjs' formula): m' = b1 m + (1-b1) g, v' = b2 v + (1-b2) g^2,
  // w' = w - lr (m' c1) / (sqrt(v' c2) + eps), into fresh outputs.
  void (*adam)(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper);
  // RMSNorm rows: rstd = 1/sqrt(mean(x^2) + eps), y = x * rstd * weight.
  void (*rms_norm)(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps);
  // Its gradient for rows: dx = dy*w*rstd - x*c with c = rstd^3 * dot(dy*w, x) / dim; dw (+)= dy*x*rstd.
  void (*rms_norm_backward)(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim);
  // Pre-packed B (a constant weight packed once): its size in floats, the packing, and the
  // blocked GEMM reading it (pr.b is ignored). The layout is this kernel set's own.
  std::ptrdiff_t (*packed_b_size)(std::ptrdiff_t k, std::ptrdiff_t n);
  void (*pack_b)(const float* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, std::ptrdiff_t k, std::ptrdiff_t n, float* dst);
  void (*gemm_packed)(const GemmProblem& problem, float* apack, const float* bpacked);
};

// Columns of softmax row r that are visible: all of them, or (visible0 >= 0, causal) the first
// visible0 + r, clamped to [0, cols].
inline long visible_columns(long r, long cols, long visible0) {
  if (visible0 < 0) return cols;
  const long len = visible0 + r;
  return len > cols ? cols : len < 0 ? 0 : len;
}

// Portable versions of the element-wise kernels (shared by the generic set).
void softmax_rows_generic(float* s, long rows, long cols, long ld, float scale, long visible0);
void softmax_backward_generic(const float* p, float* dp, long rows, long cols, long ld, float scale);
void silu_mul_generic(const float* g, const float* u, float* y, long n);
void silu_mul_backward_generic(const float* g, const float* u, const float* dy, float* dg, float* du, long n);
void adam_generic(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper);
void rms_norm_generic(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps);
void rms_norm_backward_generic(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim);

// Portable C++ kernels (any CPU; the compiler vectorises what it can).
const KernelInfo* generic_kernels();
#if defined(DEEPLINE_X64)
// AVX2 + FMA, 6x16 register tile.
const KernelInfo* avx2_kernels();
// AVX-512F, 14x32 register tile.
const KernelInfo* avx512_kernels();
// The AVX2 GEMV, shared by both x64 kernel sets (it is memory-bound either way).
bool gemv_avx2(const GemvProblem& problem);
// AVX2 element-wise kernels, shared by both x64 kernel sets.
void softmax_rows_avx2(float* s, long rows, long cols, long ld, float scale, long visible0);
void softmax_backward_avx2(const float* p, float* dp, long rows, long cols, long ld, float scale);
void silu_mul_avx2(const float* g, const float* u, float* y, long n);
void silu_mul_backward_avx2(const float* g, const float* u, const float* dy, float* dg, float* du, long n);
void adam_avx2(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper);
void rms_norm_avx2(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps);
void rms_norm_backward_avx2(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim);
#endif

}  // namespace deepline
