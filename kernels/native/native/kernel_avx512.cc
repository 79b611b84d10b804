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

  static constexpr int NV = 2;  // 16-float vectors per tile row

  // C[R, 16V] (+)= A-panel[R, kc] * B-panel[kc, 16V]; panels are packed with the full tile's
  // strides (a[p*MR + i], b[p*NR + j]), so edge tiles read the same buffers.
  template <int R, int V>
  static inline void kernel(Index kc, const float* __restrict a, const float* __restrict b, float* c, Index ldc, bool accumulate) {
    // Fetch the C tile while the K loop runs: outputs are fresh tensors, usually not cached.
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    __m512 acc[R][V];
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
    }
    for (Index p = 0; p < kc; ++p) {
      __m512 bv[V];
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        const __m512 x = _mm512_set1_ps(a[i]);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(x, bv[v], acc[i][v]);
      }
      a += MR;
      b += NR;
    }
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) {
        float* dst = c + i * ldc + 16 * v;
        _mm512_storeu_ps(dst, accumulate ? _mm512_add_ps(acc[i][v], _mm512_loadu_ps(dst)) : acc[i][v]);
      }
    }
  }
};

void gemm_avx512(const GemmProblem& problem, float* apack, float* bpack) { gemm_blocked<Avx512Traits>(problem, apack, bpack); }

std::ptrdiff_t packed_b_size_Avx512Traits(std::ptrdiff_t k, std::ptrdiff_t n) { return packed_b_size<Avx512Traits>(k, n); }
void pack_b_Avx512Traits(const float* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, std::ptrdiff_t k, std::ptrdiff_t n, float* dst) {
  pack_b_blocked<Avx512Traits>(b, rsb, csb, k, n, dst);
}
void gemm_packed_Avx512Traits(const GemmProblem& problem, float* apack, const float* bpacked) {
  gemm_blocked<Avx512Traits>(problem, apack, nullptr, bpacked);
}

}  // namespace

const KernelInfo* avx512_kernels() {
  static const KernelInfo info = {"avx512",         Avx512Traits::MR, Avx512Traits::NR, Avx512Traits::MC, Avx512Traits::KC,
                                  Avx512Traits::NC, gemm_avx512,      gemv_avx2,
                                  softmax_rows_avx2, softmax_backward_avx2, silu_mul_avx2, silu_mul_backward_avx2,
                                  adam_avx2, rms_norm_avx2, rms_norm_backward_avx2,
                                  packed_b_size_Avx512Traits, pack_b_Avx512Traits, gemm_packed_Avx512Traits};
  return &info;
}

}  // namespace deepline
