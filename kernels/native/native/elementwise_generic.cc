// Portable element-wise kernels (same definitions as elementwise_avx2.cc, scalar libm exp).
#include <cmath>
#include <cstring>

#include "gemm_types.h"

namespace deepline {

void softmax_rows_generic(float* s, long rows, long cols, long ld, float scale, long visible0) {
  for (long r = 0; r < rows; ++r) {
    float* row = s + r * ld;
    const long len = visible_columns(r, cols, visible0);
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

// hyper = {lr, beta1, beta2, epsilon, c1, c2}
void adam_generic(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper) {
  const float lr = hyper[0], b1 = hyper[1], b2 = hyper[2], eps = hyper[3], c1 = hyper[4], c2 = hyper[5];
  for (long i = 0; i < n; ++i) {
    const float mi = m[i] * b1 + g[i] * (1.0f - b1);
    const float vi = v[i] * b2 + g[i] * g[i] * (1.0f - b2);
    om[i] = mi;
    ov[i] = vi;
    ow[i] = w[i] - lr * (mi * c1) / (std::sqrt(vi * c2) + eps);
  }
}

void rms_norm_generic(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps) {
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float ss = 0.0f;
    for (long j = 0; j < dim; ++j) ss += xr[j] * xr[j];
    const float s = 1.0f / std::sqrt(eps + ss / static_cast<float>(dim));
    rstd[r] = s;
    for (long j = 0; j < dim; ++j) y[r * dim + j] = xr[j] * s * w[j];
  }
}

void rms_norm_backward_generic(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim) {
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    const float* dyr = dy + r * dim;
    const float s = rstd[r];
    float dot = 0.0f;
    for (long j = 0; j < dim; ++j) dot += dyr[j] * w[j] * xr[j];
    const float c = dot * (s * s * s) / static_cast<float>(dim);
    for (long j = 0; j < dim; ++j) {
      dx[r * dim + j] = dyr[j] * w[j] * s - xr[j] * c;
      dw[j] += dyr[j] * xr[j] * s;
    }
  }
}

}  // namespace deepline
