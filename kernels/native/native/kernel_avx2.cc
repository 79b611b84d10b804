// AVX2 + FMA kernels: a 6x16 register tile (12 accumulators, 2 B vectors, 1 broadcast) and
// GEMV loops. Compiled with -mavx2 -mfma; only called after a run-time CPU check.
#include <immintrin.h>

#include "avx_transpose.h"
#include "gemm_blocked.h"

namespace deepline {
namespace {

struct Avx2Traits {
  static constexpr int MR = 6;
  static constexpr int NR = 16;
  static constexpr Index MC = 96;
  static constexpr Index KC = 256;
  static constexpr Index NC = 4096;

  template <int W>
  static inline void copy_lanes(const float* s, float* d) {
    if constexpr (W % 8 == 0) {
      for (int l = 0; l < W; l += 8) _mm256_storeu_ps(d + l, _mm256_loadu_ps(s + l));
    } else {
      std::memcpy(d, s, sizeof(float) * W);
    }
  }

  static inline void transpose8(const float* const rows[8], float* dst, Index stride) { transpose8_avx(rows, dst, stride); }

  static constexpr int NV = 2;  // 8-float vectors per tile row

  // C[R, 8V] (+)= A-panel[R, kc] * B-panel[kc, 8V]; panels are packed with the full tile's
  // strides (a[p*MR + i], b[p*NR + j]), so edge tiles read the same buffers.
  template <int R, int V>
  static inline void kernel(Index kc, const float* __restrict a, const float* __restrict b, float* c, Index ldc, bool accumulate) {
    // Fetch the C tile while the K loop runs: outputs are fresh tensors, usually not cached.
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    __m256 acc[R][V];
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[i][v] = _mm256_setzero_ps();
    }
    for (Index p = 0; p < kc; ++p) {
      __m256 bv[V];
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 6
      for (int i = 0; i < R; ++i) {
        const __m256 x = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) acc[i][v] = _mm256_fmadd_ps(x, bv[v], acc[i][v]);
      }
      a += MR;
      b += NR;
    }
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        float* dst = c + i * ldc + 8 * v;
        _mm256_storeu_ps(dst, accumulate ? _mm256_add_ps(acc[i][v], _mm256_loadu_ps(dst)) : acc[i][v]);
      }
    }
  }
};

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// B rows contiguous (csb == 1): stream B once, 32 output columns per pass.
void gemv_rows(const GemvProblem& g) {
  const float* x = g.x;
  Index j = 0;
  for (; j + 32 <= g.n; j += 32) {
    __m256 y0 = _mm256_setzero_ps(), y1 = _mm256_setzero_ps(), y2 = _mm256_setzero_ps(), y3 = _mm256_setzero_ps();
    const float* b = g.b + j;
    for (Index p = 0; p < g.k; ++p, b += g.rsb) {
      const __m256 xp = _mm256_set1_ps(x[p]);
      y0 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(b), y0);
      y1 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(b + 8), y1);
      y2 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(b + 16), y2);
      y3 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(b + 24), y3);
    }
    _mm256_storeu_ps(g.y + j, y0);
    _mm256_storeu_ps(g.y + j + 8, y1);
    _mm256_storeu_ps(g.y + j + 16, y2);
    _mm256_storeu_ps(g.y + j + 24, y3);
  }
  for (; j + 8 <= g.n; j += 8) {
    __m256 y0 = _mm256_setzero_ps();
    const float* b = g.b + j;
    for (Index p = 0; p < g.k; ++p, b += g.rsb) y0 = _mm256_fmadd_ps(_mm256_set1_ps(x[p]), _mm256_loadu_ps(b), y0);
    _mm256_storeu_ps(g.y + j, y0);
  }
  for (; j < g.n; ++j) {
    float s = 0.0f;
    for (Index p = 0; p < g.k; ++p) s += x[p] * g.b[p * g.rsb + j];
    g.y[j] = s;
  }
}

// One dot product of contiguous x and column `col` (unit stride), 16 lanes per step.
inline float dot(const float* x, const float* col, Index k) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  Index p = 0;
  for (; p + 16 <= k; p += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(col + p), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p + 8), _mm256_loadu_ps(col + p + 8), s1);
  }
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; p < k; ++p) s += x[p] * col[p];
  return s;
}

// B columns contiguous (rsb == 1): dot products, four columns per pass sharing each x load.
void gemv_cols(const GemvProblem& g) {
  const float* x = g.x;
  Index j = 0;
  for (; j + 4 <= g.n; j += 4) {
    const float* b0 = g.b + j * g.csb;
    const float* b1 = b0 + g.csb;
    const float* b2 = b1 + g.csb;
    const float* b3 = b2 + g.csb;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    Index p = 0;
    for (; p + 8 <= g.k; p += 8) {
      const __m256 xv = _mm256_loadu_ps(x + p);
      s0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b0 + p), s0);
      s1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b1 + p), s1);
      s2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b2 + p), s2);
      s3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(b3 + p), s3);
    }
    float r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
    for (; p < g.k; ++p) {
      r0 += x[p] * b0[p];
      r1 += x[p] * b1[p];
      r2 += x[p] * b2[p];
      r3 += x[p] * b3[p];
    }
    g.y[j] = r0;
    g.y[j + 1] = r1;
    g.y[j + 2] = r2;
    g.y[j + 3] = r3;
  }
  for (; j < g.n; ++j) g.y[j] = dot(x, g.b + j * g.csb, g.k);
}

void gemm_avx2(const GemmProblem& problem, float* apack, float* bpack) {
  gemm_blocked<Avx2Traits>(problem, apack, bpack);
}

std::ptrdiff_t packed_b_size_Avx2Traits(std::ptrdiff_t k, std::ptrdiff_t n) { return packed_b_size<Avx2Traits>(k, n); }
void pack_b_Avx2Traits(const float* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, std::ptrdiff_t k, std::ptrdiff_t n, float* dst) {
  pack_b_blocked<Avx2Traits>(b, rsb, csb, k, n, dst);
}
void gemm_packed_Avx2Traits(const GemmProblem& problem, float* apack, const float* bpacked) {
  gemm_blocked<Avx2Traits>(problem, apack, nullptr, bpacked);
}

}  // namespace

bool gemv_avx2(const GemvProblem& g) {
  if (g.incx != 1) return false;
  if (g.csb == 1) {
    gemv_rows(g);
    return true;
  }
  if (g.rsb == 1) {
    gemv_cols(g);
    return true;
  }
  return false;
}

const KernelInfo* avx2_kernels() {
  static const KernelInfo info = {"avx2", Avx2Traits::MR, Avx2Traits::NR, Avx2Traits::MC, Avx2Traits::KC, Avx2Traits::NC, gemm_avx2, gemv_avx2,
                                  softmax_rows_avx2, softmax_backward_avx2, silu_mul_avx2, silu_mul_backward_avx2,
                                  adam_avx2, rms_norm_avx2, rms_norm_backward_avx2,
                                  packed_b_size_Avx2Traits, pack_b_Avx2Traits, gemm_packed_Avx2Traits};
  return &info;
}

}  // namespace deepline
