// AVX-512F kernels: a 14x32 register tile (28 zmm accumulators, 2 B vectors, A broadcast
// from memory). Compiled with -mavx512f (+ AVX2/FMA); only called after a run-time CPU check.
#include <immintrin.h>

#include "avx_transpose.h"
#include "gemm_blocked.h"

namespace deepline {
namespace {

struct Avx512Traits {
  static constexpr int MR = 14;
  static constexpr int NR = 32;
  static constexpr Index MC = 112;
  static constexpr Index KC = 192;
  static constexpr Index NC = 4096;

  template <int W>
  static inline void copy_lanes(const float* s, float* d) {
    if constexpr (W % 16 == 0) {
      for (int l = 0; l < W; l += 16) _mm512_storeu_ps(d + l, _mm512_loadu_ps(s + l));
    } else {
      std::memcpy(d, s, sizeof(float) * W);
    }
  }

  static inline void transpose8(const float* const rows[8], float* dst, Index stride) { transpose8_avx(rows, dst, stride); }

  // C[14, 32] (+)= A-panel[14, kc] * B-panel[kc, 32]; panels packed as a[p*14 + i], b[p*32 + j].
  static inline void micro(Index kc, const float* __restrict a, const float* __restrict b, float* c, Index ldc, bool accumulate) {
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      acc[i][0] = _mm512_setzero_ps();
      acc[i][1] = _mm512_setzero_ps();
    }
    for (Index p = 0; p < kc; ++p) {
      const __m512 b0 = _mm512_load_ps(b);
      const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
      for (int i = 0; i < MR; ++i) {
        const __m512 x = _mm512_set1_ps(a[i]);
        acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
      }
      a += MR;
      b += NR;
    }
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      float* row = c + i * ldc;
      __m512 lo = acc[i][0];
      __m512 hi = acc[i][1];
      if (accumulate) {
        lo = _mm512_add_ps(lo, _mm512_loadu_ps(row));
        hi = _mm512_add_ps(hi, _mm512_loadu_ps(row + 16));
      }
      _mm512_storeu_ps(row, lo);
      _mm512_storeu_ps(row + 16, hi);
    }
  }
};

void gemm_avx512(const GemmProblem& problem, float* apack, float* bpack) { gemm_blocked<Avx512Traits>(problem, apack, bpack); }

}  // namespace

const KernelInfo* avx512_kernels() {
  static const KernelInfo info = {"avx512",         Avx512Traits::MR, Avx512Traits::NR, Avx512Traits::MC, Avx512Traits::KC,
                                  Avx512Traits::NC, gemm_avx512,      gemv_avx2};
  return &info;
}

}  // namespace deepline
