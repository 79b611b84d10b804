// AVX2 element-wise kernels used around the GEMM: row softmax (forward/backward, with the
// causal mask) for attention, and SwiGLU's silu(g)*u (forward/backward). Compiled with
// -mavx2 -mfma as part of the AVX2 library; called only after the run-time CPU check.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "gemm_types.h"

namespace deepline {
namespace {

// e^x for 8 lanes: x = n*ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n by
// building the float exponent. Inputs are clamped to the finite, normal range.
inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3365f)), _mm256_set1_ps(88.3762626647949f));
  const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float exp1(float x) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, exp8(_mm256_set1_ps(x)));
  return lanes[0];
}

}  // namespace

void softmax_rows_avx2(float* s, long rows, long cols, long ld, float scale, long visible0) {
  const __m256 vscale = _mm256_set1_ps(scale);
  for (long r = 0; r < rows; ++r) {
    float* row = s + r * ld;
    const long len = visible_columns(r, cols, visible0);
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    float m = -INFINITY;
    long j = 0;
    for (; j + 8 <= len; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + j));
    for (; j < len; ++j) m = m > row[j] ? m : row[j];
    const float hm = hmax8(vmax);
    m = scale * (m > hm ? m : hm);
    const __m256 vm = _mm256_set1_ps(m);
    __m256 vsum = _mm256_setzero_ps();
    float sum = 0.0f;
    for (j = 0; j + 8 <= len; j += 8) {
      const __m256 e = exp8(_mm256_fmsub_ps(_mm256_loadu_ps(row + j), vscale, vm));
      _mm256_storeu_ps(row + j, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    for (; j < len; ++j) {
      row[j] = exp1(row[j] * scale - m);
      sum += row[j];
    }
    const float inv = 1.0f / (sum + hsum8(vsum));
    const __m256 vinv = _mm256_set1_ps(inv);
    for (j = 0; j + 8 <= len; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), vinv));
    for (; j < len; ++j) row[j] *= inv;
    if (len < cols) std::memset(row + len, 0, sizeof(float) * static_cast<size_t>(cols - len));
  }
}

void softmax_backward_avx2(const float* p, float* dp, long rows, long cols, long ld, float scale) {
  const __m256 vscale = _mm256_set1_ps(scale);
  for (long r = 0; r < rows; ++r) {
    const float* pr = p + r * ld;
    float* dr = dp + r * ld;
    __m256 acc = _mm256_setzero_ps();
    float dot = 0.0f;
    long j = 0;
    for (; j + 8 <= cols; j += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(pr + j), _mm256_loadu_ps(dr + j), acc);
    for (; j < cols; ++j) dot += pr[j] * dr[j];
    dot += hsum8(acc);
    const __m256 vdot = _mm256_set1_ps(dot);
    for (j = 0; j + 8 <= cols; j += 8) {
      const __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(pr + j), _mm256_sub_ps(_mm256_loadu_ps(dr + j), vdot)), vscale);
      _mm256_storeu_ps(dr + j, v);
    }
    for (; j < cols; ++j) dr[j] = pr[j] * (dr[j] - dot) * scale;
  }
}

void silu_mul_avx2(const float* g, const float* u, float* y, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(gv, sigmoid8(gv)), _mm256_loadu_ps(u + i)));
  }
  for (; i < n; ++i) y[i] = g[i] / (1.0f + exp1(-g[i])) * u[i];
}

void silu_mul_backward_avx2(const float* g, const float* u, const float* dy, float* dg, float* du, long n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i);
    const __m256 sv = sigmoid8(gv);
    const __m256 dv = _mm256_loadu_ps(dy + i);
    _mm256_storeu_ps(du + i, _mm256_mul_ps(dv, _mm256_mul_ps(gv, sv)));
    const __m256 local = _mm256_mul_ps(sv, _mm256_fmadd_ps(gv, _mm256_sub_ps(one, sv), one));
    _mm256_storeu_ps(dg + i, _mm256_mul_ps(_mm256_mul_ps(dv, _mm256_loadu_ps(u + i)), local));
  }
  for (; i < n; ++i) {
    const float s = 1.0f / (1.0f + exp1(-g[i]));
    du[i] = dy[i] * g[i] * s;
    dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
  }
}

void adam_avx2(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper) {
  const float lr = hyper[0], b1 = hyper[1], b2 = hyper[2], eps = hyper[3], c1 = hyper[4], c2 = hyper[5];
  const __m256 vb1 = _mm256_set1_ps(b1), va1 = _mm256_set1_ps(1.0f - b1), vb2 = _mm256_set1_ps(b2), va2 = _mm256_set1_ps(1.0f - b2);
  const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps), vc1 = _mm256_set1_ps(c1), vc2 = _mm256_set1_ps(c2);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i);
    const __m256 mv = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), vb1), _mm256_mul_ps(gv, va1));
    const __m256 vv = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2), _mm256_mul_ps(_mm256_mul_ps(gv, gv), va2));
    _mm256_storeu_ps(om + i, mv);
    _mm256_storeu_ps(ov + i, vv);
    const __m256 step = _mm256_div_ps(_mm256_mul_ps(vlr, _mm256_mul_ps(mv, vc1)), _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vv, vc2)), veps));
    _mm256_storeu_ps(ow + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), step));
  }
  if (i < n) adam_generic(w + i, g + i, m + i, v + i, ow + i, om + i, ov + i, n - i, hyper);
}

void rms_norm_avx2(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps) {
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    __m256 acc = _mm256_setzero_ps();
    float ss = 0.0f;
    long j = 0;
    for (; j + 8 <= dim; j += 8) {
      const __m256 xv = _mm256_loadu_ps(xr + j);
      acc = _mm256_fmadd_ps(xv, xv, acc);
    }
    for (; j < dim; ++j) ss += xr[j] * xr[j];
    const float s = 1.0f / std::sqrt(eps + (ss + hsum8(acc)) / static_cast<float>(dim));
    rstd[r] = s;
    const __m256 vs = _mm256_set1_ps(s);
    for (j = 0; j + 8 <= dim; j += 8) _mm256_storeu_ps(yr + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + j), vs), _mm256_loadu_ps(w + j)));
    for (; j < dim; ++j) yr[j] = xr[j] * s * w[j];
  }
}

void rms_norm_backward_avx2(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim) {
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    const float* dyr = dy + r * dim;
    float* dxr = dx + r * dim;
    const float s = rstd[r];
    __m256 acc = _mm256_setzero_ps();
    float dot = 0.0f;
    long j = 0;
    for (; j + 8 <= dim; j += 8) acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dyr + j), _mm256_loadu_ps(w + j)), _mm256_loadu_ps(xr + j), acc);
    for (; j < dim; ++j) dot += dyr[j] * w[j] * xr[j];
    const float c = (dot + hsum8(acc)) * (s * s * s) / static_cast<float>(dim);
    const __m256 vs = _mm256_set1_ps(s), vc = _mm256_set1_ps(c);
    for (j = 0; j + 8 <= dim; j += 8) {
      const __m256 dyv = _mm256_loadu_ps(dyr + j), xv = _mm256_loadu_ps(xr + j);
      _mm256_storeu_ps(dxr + j, _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(dyv, _mm256_loadu_ps(w + j)), vs), _mm256_mul_ps(xv, vc)));
      _mm256_storeu_ps(dw + j, _mm256_fmadd_ps(_mm256_mul_ps(dyv, xv), vs, _mm256_loadu_ps(dw + j)));
    }
    for (; j < dim; ++j) {
      dxr[j] = dyr[j] * w[j] * s - xr[j] * c;
      dw[j] += dyr[j] * xr[j] * s;
    }
  }
}

}  // namespace deepline
