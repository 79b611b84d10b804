// Portable kernels for CPUs without AVX2/FMA (or non-x86): the same blocked driver with a
// 4x16 tile written as plain loops that the compiler vectorises for the baseline ISA.
#include "gemm_blocked.h"

namespace deepline {
namespace {

struct GenericTraits {
  static constexpr int MR = 4;
  static constexpr int NR = 16;
  static constexpr Index MC = 128;
  static constexpr Index KC = 256;
  static constexpr Index NC = 4096;

  template <int W>
  static inline void copy_lanes(const float* s, float* d) {
    std::memcpy(d, s, sizeof(float) * W);
  }

  static inline void transpose8(const float* const rows[8], float* dst, Index stride) {
    for (int r = 0; r < 8; ++r) {
      for (int q = 0; q < 8; ++q) dst[r * stride + q] = rows[q] ? rows[q][r] : 0.0f;
    }
  }

  static constexpr int NV = 2;  // 8-float column groups per tile row

  // C[R, 8V] (+)= A-panel[R, kc] * B-panel[kc, 8V] (packed with the full tile's strides).
  template <int R, int V>
  static inline void kernel(Index kc, const float* __restrict a, const float* __restrict b, float* c, Index ldc, bool accumulate) {
    constexpr int W = 8 * V;
    float acc[R][W] = {};
    for (Index p = 0; p < kc; ++p) {
      for (int i = 0; i < R; ++i) {
        const float x = a[i];
        for (int j = 0; j < W; ++j) acc[i][j] += x * b[j];
      }
      a += MR;
      b += NR;
    }
    for (int i = 0; i < R; ++i) {
      float* row = c + i * ldc;
      if (accumulate) {
        for (int j = 0; j < W; ++j) row[j] += acc[i][j];
      } else {
        for (int j = 0; j < W; ++j) row[j] = acc[i][j];
      }
    }
  }
};

void gemm_generic(const GemmProblem& problem, float* apack, float* bpack) { gemm_blocked<GenericTraits>(problem, apack, bpack); }

bool gemv_generic(const GemvProblem& g) {
  if (g.incx != 1 || (g.csb != 1 && g.rsb != 1)) return false;
  if (g.csb == 1) {
    for (Index j = 0; j < g.n; ++j) g.y[j] = 0.0f;
    for (Index p = 0; p < g.k; ++p) {
      const float x = g.x[p];
      const float* row = g.b + p * g.rsb;
      for (Index j = 0; j < g.n; ++j) g.y[j] += x * row[j];
    }
  } else {
    for (Index j = 0; j < g.n; ++j) {
      const float* col = g.b + j * g.csb;
      float s = 0.0f;
      for (Index p = 0; p < g.k; ++p) s += g.x[p] * col[p];
      g.y[j] = s;
    }
  }
  return true;
}

std::ptrdiff_t packed_b_size_GenericTraits(std::ptrdiff_t k, std::ptrdiff_t n) { return packed_b_size<GenericTraits>(k, n); }
void pack_b_GenericTraits(const float* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, std::ptrdiff_t k, std::ptrdiff_t n, float* dst) {
  pack_b_blocked<GenericTraits>(b, rsb, csb, k, n, dst);
}
void gemm_packed_GenericTraits(const GemmProblem& problem, float* apack, const float* bpacked) {
  gemm_blocked<GenericTraits>(problem, apack, nullptr, bpacked);
}

}  // namespace

const KernelInfo* generic_kernels() {
  static const KernelInfo info = {"generic",         GenericTraits::MR, GenericTraits::NR, GenericTraits::MC, GenericTraits::KC,
                                  GenericTraits::NC, gemm_generic,      gemv_generic,
                                  softmax_rows_generic, softmax_backward_generic, silu_mul_generic, silu_mul_backward_generic,
                                  adam_generic, rms_norm_generic, rms_norm_backward_generic,
                                  packed_b_size_GenericTraits, pack_b_GenericTraits, gemm_packed_GenericTraits};
  return &info;
}

}  // namespace deepline
