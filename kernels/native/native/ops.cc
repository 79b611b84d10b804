#include "ops.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace deepline {
namespace {

struct AttentionTask {
  const AttentionShape* s;
  const float *q, *k, *v, *probs, *dy;
  float *out, *p, *dq, *dk, *dv;
  std::atomic<const char*> error{nullptr};
};

// Offsets (in floats) of head h of batch b in a [B, T, H, D] tensor and in [B, H, tq, tk].
long head_offset(const AttentionShape& s, long b, long t, long h) { return (b * t * s.heads + h) * s.dim; }

// Causal attention: query rows [r0, r1) see keys < r1 + tk - tq, so products over keys stop
// there (the rest of those rows is masked to exactly 0). Blocks of rows keep that bound tight.
constexpr long kCausalBlock = 32;

long visible_keys(const AttentionShape& s, long row_end) {
  if (!s.causal) return s.tk;
  const long keys = row_end + s.tk - s.tq;
  return keys < 0 ? 0 : (keys > s.tk ? s.tk : keys);
}

void forward_task(void* context, long task) {
  AttentionTask& c = *static_cast<AttentionTask*>(context);
  const AttentionShape& s = *c.s;
  const long b = task / s.heads, h = task % s.heads, row = s.heads * s.dim;
  const float* qh = c.q + head_offset(s, b, s.tq, h);
  const float* kh = c.k + head_offset(s, b, s.tk, h);
  const float* vh = c.v + head_offset(s, b, s.tk, h);
  float* oh = c.out + head_offset(s, b, s.tq, h);
  float* p = c.p + task * s.tq * s.tk;
  const long block = s.causal ? kCausalBlock : s.tq;
  const char* err = nullptr;
  for (long r0 = 0; r0 < s.tq && !err; r0 += block) {
    const long rows = s.tq - r0 < block ? s.tq - r0 : block;
    const long keys = visible_keys(s, r0 + rows);
    float* pr = p + r0 * s.tk;
    // P = Q Kt (K read transposed through strides), softmax rows, O = P V.
    if (keys > 0) err = gemm_single(GemmProblem{qh + r0 * row, row, 1, kh, 1, row, pr, s.tk, rows, keys, s.dim});
    if (err) break;
    // Rows with fewer visible keys than `keys` are cut (and zero-filled) by the causal softmax;
    // the columns past `keys` were never computed, and the softmax zero-fills them too.
    active_kernels().softmax_rows(pr, rows, s.tk, s.tk, s.scale, s.causal ? r0 + 1 + s.tk - s.tq : -1);
    err = gemm_single(GemmProblem{pr, s.tk, 1, vh, row, 1, oh + r0 * row, row, rows, s.dim, keys});
  }
  if (err) c.error.store(err);
}

void backward_task(void* context, long task) {
  AttentionTask& c = *static_cast<AttentionTask*>(context);
  const AttentionShape& s = *c.s;
  const long b = task / s.heads, h = task % s.heads, row = s.heads * s.dim;
  const long qo = head_offset(s, b, s.tq, h), ko = head_offset(s, b, s.tk, h);
  const float* p = c.probs + task * s.tq * s.tk;
  float* dp = thread_scratch(static_cast<std::size_t>(s.tq * s.tk));
  if (!dp) {
    c.error.store("attention backward: cannot allocate scratch");
    return;
  }
  // dV = Pt dO ; dP = dO Vt ; dS = P * (dP - rowsum(dP * P)) * scale ; dQ = dS K ; dK = dSt Q
  const char* err = gemm_single(GemmProblem{p, 1, s.tk, c.dy + qo, row, 1, c.dv + ko, row, s.tk, s.dim, s.tq});
  const long block = s.causal ? kCausalBlock : s.tq;
  for (long r0 = 0; r0 < s.tq && !err; r0 += block) {
    const long rows = s.tq - r0 < block ? s.tq - r0 : block;
    const long keys = visible_keys(s, r0 + rows);
    float* dr = dp + r0 * s.tk;
    if (keys > 0) err = gemm_single(GemmProblem{c.dy + qo + r0 * row, row, 1, c.v + ko, 1, row, dr, s.tk, rows, keys, s.dim});
    if (err) break;
    // Masked entries of P are exactly 0, so dS there is 0 as long as dP is finite: clear the
    // columns the product skipped (the scratch holds stale values).
    if (keys < s.tk) {
      for (long r = 0; r < rows; ++r) std::memset(dr + r * s.tk + keys, 0, sizeof(float) * static_cast<std::size_t>(s.tk - keys));
    }
    active_kernels().softmax_backward(p + r0 * s.tk, dr, rows, s.tk, s.tk, s.scale);
    err = gemm_single(GemmProblem{dr, s.tk, 1, c.k + ko, row, 1, c.dq + qo + r0 * row, row, rows, s.dim, keys});
  }
  if (!err) err = gemm_single(GemmProblem{dp, 1, s.tk, c.q + qo, row, 1, c.dk + ko, row, s.tk, s.dim, s.tq});
  if (err) c.error.store(err);
}

double attention_flops(const AttentionShape& s) { return 4.0 * s.batch * s.heads * s.tq * s.tk * s.dim; }

struct SiluTask {
  const float *g, *u, *dy;
  float *y, *dg, *du;
  long n;
  long chunk;
};

constexpr long kSiluChunk = 1L << 15;

void silu_task(void* context, long task) {
  SiluTask& c = *static_cast<SiluTask*>(context);
  const long start = task * c.chunk;
  const long count = c.n - start < c.chunk ? c.n - start : c.chunk;
  if (c.dy) {
    active_kernels().silu_mul_backward(c.g + start, c.u + start, c.dy + start, c.dg + start, c.du + start, count);
  } else {
    active_kernels().silu_mul(c.g + start, c.u + start, c.y + start, count);
  }
}

void run_silu(SiluTask& task) {
  task.chunk = kSiluChunk;
  const long tasks = (task.n + task.chunk - 1) / task.chunk;
  // ~40 flops per element (exp, divide): weigh elements like GEMM flops for the threshold.
  parallel_for(tasks, 40.0 * static_cast<double>(task.n), silu_task, &task);
}

struct CrossEntropyTask {
  const float* logits;
  const int* labels;
  float* probs;
  long vocab;
  long n;
  long rows_per_task;
  double* partial;  // -sum(log p[label]) per task
};

void cross_entropy_task(void* context, long task) {
  CrossEntropyTask& c = *static_cast<CrossEntropyTask*>(context);
  const long start = task * c.rows_per_task;
  const long rows = c.n - start < c.rows_per_task ? c.n - start : c.rows_per_task;
  float* p = c.probs + start * c.vocab;
  std::memcpy(p, c.logits + start * c.vocab, sizeof(float) * static_cast<std::size_t>(rows * c.vocab));
  active_kernels().softmax_rows(p, rows, c.vocab, c.vocab, 1.0f, -1);
  double total = 0.0;
  for (long r = 0; r < rows; ++r) {
    const float q = p[r * c.vocab + c.labels[start + r]];
    total -= std::log(q > 1e-38f ? q : 1e-38f);
  }
  c.partial[task] = total;
}

struct AdamTask {
  const float *w, *g, *m, *v;
  float *ow, *om, *ov;
  long n;
  const float* hyper;
};

constexpr long kAdamChunk = 1L << 15;

void adam_task(void* context, long task) {
  AdamTask& c = *static_cast<AdamTask*>(context);
  const long start = task * kAdamChunk;
  const long count = c.n - start < kAdamChunk ? c.n - start : kAdamChunk;
  active_kernels().adam(c.w + start, c.g + start, c.m + start, c.v + start, c.ow + start, c.om + start, c.ov + start, count, c.hyper);
}

struct RmsTask {
  const float *x, *w, *rstd_in, *dy;
  float *y, *rstd, *dx, *partial;
  long rows, dim, rows_per_task;
  float eps;
};

void rms_forward_task(void* context, long task) {
  RmsTask& c = *static_cast<RmsTask*>(context);
  const long start = task * c.rows_per_task;
  const long rows = c.rows - start < c.rows_per_task ? c.rows - start : c.rows_per_task;
  active_kernels().rms_norm(c.x + start * c.dim, c.w, c.y + start * c.dim, c.rstd + start, rows, c.dim, c.eps);
}

void rms_backward_task(void* context, long task) {
  RmsTask& c = *static_cast<RmsTask*>(context);
  const long start = task * c.rows_per_task;
  const long rows = c.rows - start < c.rows_per_task ? c.rows - start : c.rows_per_task;
  active_kernels().rms_norm_backward(c.x + start * c.dim, c.w, c.rstd_in + start, c.dy + start * c.dim, c.dx + start * c.dim, c.partial + task * c.dim,
                                     rows, c.dim);
}

}  // namespace

void adam_step(const float* w, const float* g, const float* m, const float* v, float* ow, float* om, float* ov, long n, const float* hyper) {
  AdamTask task{w, g, m, v, ow, om, ov, n, hyper};
  parallel_for((n + kAdamChunk - 1) / kAdamChunk, 20.0 * static_cast<double>(n), adam_task, &task);
}

void rms_norm_forward(const float* x, const float* w, float* y, float* rstd, long rows, long dim, float eps) {
  RmsTask task{x, w, nullptr, nullptr, y, rstd, nullptr, nullptr, rows, dim, 64, eps};
  parallel_for((rows + 63) / 64, 10.0 * static_cast<double>(rows) * static_cast<double>(dim), rms_forward_task, &task);
}

void rms_norm_backward(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw, long rows, long dim) {
  const long tasks = (rows + 63) / 64;
  // Each task sums its rows' dw into its own slice; the slices are added up afterwards.
  std::vector<float> partial(static_cast<std::size_t>(tasks * dim), 0.0f);
  RmsTask task{x, w, rstd, dy, nullptr, nullptr, dx, partial.data(), rows, dim, 64, 0.0f};
  parallel_for(tasks, 12.0 * static_cast<double>(rows) * static_cast<double>(dim), rms_backward_task, &task);
  for (long j = 0; j < dim; ++j) dw[j] = 0.0f;
  for (long t = 0; t < tasks; ++t) {
    const float* p = partial.data() + t * dim;
    for (long j = 0; j < dim; ++j) dw[j] += p[j];
  }
}

long cross_entropy_forward(const float* logits, const int* labels, float* probs, float* loss, long n, long vocab) {
  for (long r = 0; r < n; ++r) {
    if (labels[r] < 0 || labels[r] >= vocab) return r;
  }
  const long rows_per_task = 64;
  const long tasks = (n + rows_per_task - 1) / rows_per_task;
  std::vector<double> partial(static_cast<std::size_t>(tasks), 0.0);
  CrossEntropyTask task{logits, labels, probs, vocab, n, rows_per_task, partial.data()};
  parallel_for(tasks, 40.0 * static_cast<double>(n) * static_cast<double>(vocab), cross_entropy_task, &task);
  double total = 0.0;
  for (double v : partial) total += v;
  *loss = n > 0 ? static_cast<float>(total / static_cast<double>(n)) : 0.0f;
  return -1;
}

const char* attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out, float* probs) {
  AttentionTask task;
  task.s = &s;
  task.q = q;
  task.k = k;
  task.v = v;
  task.out = out;
  task.p = probs;
  parallel_for(s.batch * s.heads, attention_flops(s), forward_task, &task);
  return task.error.load();
}

const char* attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* probs, const float* dy,
                               float* dq, float* dk, float* dv) {
  AttentionTask task;
  task.s = &s;
  task.q = q;
  task.k = k;
  task.v = v;
  task.probs = probs;
  task.dy = dy;
  task.dq = dq;
  task.dk = dk;
  task.dv = dv;
  parallel_for(s.batch * s.heads, 2.0 * attention_flops(s), backward_task, &task);
  return task.error.load();
}

void silu_mul(const float* g, const float* u, float* y, long n) {
  SiluTask task{g, u, nullptr, y, nullptr, nullptr, n, 0};
  run_silu(task);
}

void silu_mul_backward(const float* g, const float* u, const float* dy, float* dg, float* du, long n) {
  SiluTask task{g, u, dy, nullptr, dg, du, n, 0};
  run_silu(task);
}

}  // namespace deepline
