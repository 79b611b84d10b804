// Portable element-wise kernels (same definitions as elementwise_avx2.cc, scalar libm exp).
#include <cmath>
#include <cstring>

#include "gemm_types.h"

namespace deepline {

void softmax_rows_generic(float* s, long rows, long cols, long ld, float scale, bool causal) {
  for (long r = 0; r < rows; ++r) {
    float* row = s + r * ld;
    long len = cols;
    if (causal) {
      len = r + 1 + cols - rows;
      if (len > cols) len = cols;
      if (len < 0) len = 0;
    }
    float m = -INFINITY;
    for (long j = 0; j < len; ++j) m = m > row[j] ? m : row[j];
    m *= scale;
    float sum = 0.0f;
    for (long j = 0; j < len; ++j) {
      row[j] = std::exp(row[j] * scale - m);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (long j = 0; j < len; ++j) row[j] *= inv;
    if (len < cols) std::memset(row + len, 0, sizeof(float) * static_cast<size_t>(cols - len));
  }
}

void softmax_backward_generic(const float* p, float* dp, long rows, long cols, long ld, float scale) {
  for (long r = 0; r < rows; ++r) {
    const float* pr = p + r * ld;
    float* dr = dp + r * ld;
    float dot = 0.0f;
    for (long j = 0; j < cols; ++j) dot += pr[j] * dr[j];
    for (long j = 0; j < cols; ++j) dr[j] = pr[j] * (dr[j] - dot) * scale;
  }
}

void silu_mul_generic(const float* g, const float* u, float* y, long n) {
  for (long i = 0; i < n; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void silu_mul_backward_generic(const float* g, const float* u, const float* dy, float* dg, float* du, long n) {
  for (long i = 0; i < n; ++i) {
    const float s = 1.0f / (1.0f + std::exp(-g[i]));
    du[i] = dy[i] * g[i] * s;
    dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
  }
}

}  // namespace deepline
