#include "gemm.h"

#include <cstdlib>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "thread_pool.h"

namespace deepline {
namespace {

using Index = std::ptrdiff_t;

std::atomic<const KernelInfo*> g_kernels{nullptr};
ThreadPool g_pool;
// The addon may be loaded by several JS threads (worker_threads); the pool serves one call at
// a time, and a call that finds it busy runs on its own thread instead of waiting.
std::mutex g_pool_mutex;
double g_parallel_min_flops = 4.0e6;

bool cpu_has_avx2() {
#if defined(DEEPLINE_X64)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(DEEPLINE_X64)
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

const KernelInfo* best_kernels() {
#if defined(DEEPLINE_X64)
  if (cpu_has_avx512()) return avx512_kernels();
  if (cpu_has_avx2()) return avx2_kernels();
#endif
  return generic_kernels();
}

const KernelInfo* kernels() {
  const KernelInfo* k = g_kernels.load(std::memory_order_acquire);
  if (!k) {
    k = best_kernels();
    g_kernels.store(k, std::memory_order_release);
  }
  return k;
}

// When other processes keep the other cores busy, a worker is often descheduled holding a
// piece and the caller just waits: then threading costs more than it gains. The average share
// of a call spent waiting is tracked; past kBackoffWait the next kBackoffCalls calls run on
// the calling thread, then the pool is tried again. (Guarded by g_pool_mutex.)
constexpr double kBackoffWait = 0.35;
constexpr int kBackoffCalls = 256;
double g_wait_average = 0.0;
int g_inline_calls = 0;

// Runs tasks on the pool when it is free and worth it, else on the calling thread.
void run_tasks(long tasks, bool parallel, ThreadPool::TaskFn fn, void* context) {
  if (parallel && tasks > 1) {
    std::unique_lock<std::mutex> lock(g_pool_mutex, std::try_to_lock);
    if (lock.owns_lock() && g_pool.size() > 1) {
      if (g_inline_calls > 0) {
        --g_inline_calls;
      } else {
        const double wait = g_pool.run(tasks, fn, context);
        g_wait_average = 0.9 * g_wait_average + 0.1 * wait;
        if (g_wait_average > kBackoffWait) {
          g_inline_calls = kBackoffCalls;
          g_wait_average = 0.0;
        }
        return;
      }
    }
  }
  for (long t = 0; t < tasks; ++t) fn(context, t);
}

// Per-thread packing buffers, grown on demand and kept for the thread's lifetime.
struct Scratch {
  float* data = nullptr;
  std::size_t floats = 0;
  ~Scratch() { std::free(data); }
  float* ensure(std::size_t need) {
    if (need <= floats) return data;
    std::free(data);
    const std::size_t bytes = ((need * sizeof(float)) + 63) / 64 * 64;
    data = static_cast<float*>(std::aligned_alloc(64, bytes));
    floats = data ? need : 0;
    return data;
  }
};

thread_local Scratch t_apack;
thread_local Scratch t_bpack;
thread_local Scratch t_x;
thread_local Scratch t_ops;

Index round_up(Index v, Index to) { return (v + to - 1) / to * to; }
Index min_index(Index a, Index b) { return a < b ? a : b; }

// y = x . B, with x copied to a contiguous buffer when strided. False: layout unsupported or OOM.
bool try_gemv(const KernelInfo& kin, GemvProblem g) {
  if (g.csb != 1 && g.rsb != 1) return false;
  if (g.incx != 1) {
    float* x = t_x.ensure(static_cast<std::size_t>(g.k));
    if (!x) return false;
    for (Index p = 0; p < g.k; ++p) x[p] = g.x[p * g.incx];
    g.x = x;
    g.incx = 1;
  }
  return kin.gemv(g);
}

// Maps a GEMM with m == 1 or n == 1 (and unit-stride output) onto the GEMV kernels.
bool try_vector_gemm(const KernelInfo& kin, const GemmProblem& p) {
  if (p.m == 1) return try_gemv(kin, GemvProblem{p.a, p.csa, p.b, p.rsb, p.csb, p.c, p.n, p.k});
  // C[i, 0] = sum_p A(i, p) b(p): a GEMV over A's transpose; C must be contiguous.
  if (p.n == 1 && (p.ldc == 1 || p.m == 1)) return try_gemv(kin, GemvProblem{p.b, p.rsb, p.a, p.csa, p.rsa, p.c, p.m, p.k});
  return false;
}

// n <= 8 with contiguous A rows (e.g. a MoE router's [tokens, d] x [d, experts]): a register
// tile would be mostly padding, so each row of C is a GEMV against Bt packed once.
bool narrow_gemm(const KernelInfo& kin, const GemmProblem& p) {
  float* bt = t_x.ensure(static_cast<std::size_t>(p.n * p.k));
  if (!bt) return false;
  for (Index j = 0; j < p.n; ++j) {
    for (Index q = 0; q < p.k; ++q) bt[j * p.k + q] = p.b[q * p.rsb + j * p.csb];
  }
  for (Index i = 0; i < p.m; ++i) {
    if (!kin.gemv(GemvProblem{p.a + i * p.rsa, 1, bt, 1, p.k, p.c + i * p.ldc, p.n, p.k})) return false;
  }
  return true;
}

const char* gemm_one(const KernelInfo& kin, const GemmProblem& p) {
  if (p.m <= 0 || p.n <= 0) return nullptr;
  if (p.k <= 0) {
    for (Index i = 0; i < p.m; ++i) std::memset(p.c + i * p.ldc, 0, sizeof(float) * static_cast<std::size_t>(p.n));
    return nullptr;
  }
  if ((p.m == 1 || p.n == 1) && try_vector_gemm(kin, p)) return nullptr;
  if (p.n <= 8 && p.csa == 1 && p.k >= 16 && narrow_gemm(kin, p)) return nullptr;
  const Index kc = min_index(kin.kc, p.k);
  float* ap = t_apack.ensure(static_cast<std::size_t>(round_up(min_index(kin.mc, p.m), kin.mr) * kc + 64));
  float* bp = t_bpack.ensure(static_cast<std::size_t>(round_up(min_index(kin.nc, p.n), kin.nr) * kc + 64));
  if (!ap || !bp) return "native GEMM: cannot allocate packing buffers";
  kin.gemm(p, ap, bp);
  return nullptr;
}

// How one call is cut into tasks: `parts` pieces of each batch entry, along M or N.
struct Plan {
  const BatchedGemm* batch;
  const KernelInfo* kin;
  long parts;
  bool split_m;
  Index piece;  // rows or columns per part
  std::atomic<const char*> error{nullptr};
};

GemmProblem batch_entry(const BatchedGemm& b, long i) {
  GemmProblem p = b.first;
  if (b.a_offsets) p.a += b.a_offsets[i];
  if (b.b_offsets) p.b += b.b_offsets[i];
  p.c += i * b.c_batch_stride;
  return p;
}

void run_task(void* context, long task) {
  Plan& plan = *static_cast<Plan*>(context);
  GemmProblem p = batch_entry(*plan.batch, task / plan.parts);
  const Index part = task % plan.parts;
  if (plan.parts > 1) {
    const Index total = plan.split_m ? p.m : p.n;
    const Index start = part * plan.piece;
    if (start >= total) return;
    const Index count = min_index(plan.piece, total - start);
    if (plan.split_m) {
      p.a += start * p.rsa;
      p.c += start * p.ldc;
      p.m = count;
    } else {
      p.b += start * p.csb;
      p.c += start;
      p.n = count;
    }
  }
  if (const char* err = gemm_one(*plan.kin, p)) plan.error.store(err);
}

}  // namespace

const char* run_gemm(const BatchedGemm& batch) {
  const KernelInfo& kin = *kernels();
  const GemmProblem& f = batch.first;
  const double flops = 2.0 * static_cast<double>(f.m) * static_cast<double>(f.n) * static_cast<double>(f.k) * static_cast<double>(batch.batches);
  const int threads = g_pool.size();
  Plan plan;
  plan.batch = &batch;
  plan.kin = &kin;
  plan.parts = 1;
  plan.split_m = true;
  plan.piece = 0;
  if (threads > 1 && flops >= g_parallel_min_flops && batch.batches < 2L * threads) {
    // Too few batch entries to keep every thread busy: cut each one along the dimension with
    // more register tiles (GEMV-shaped calls: along their long side in 32-column pieces).
    const bool vector = f.m == 1 || f.n == 1;
    const Index unit_m = vector ? 32 : kin.mr;
    const Index unit_n = vector ? 32 : kin.nr;
    const Index tiles_m = (f.m + unit_m - 1) / unit_m;
    const Index tiles_n = (f.n + unit_n - 1) / unit_n;
    // Cutting along M makes every piece pack all of B (k x n), along N all of A (m x k): cut
    // along the dimension that repacks less.
    const double repack_m = static_cast<double>(f.k) * static_cast<double>(f.n);
    const double repack_n = static_cast<double>(f.m) * static_cast<double>(f.k);
    plan.split_m = vector ? tiles_m >= tiles_n : (repack_m < repack_n || (repack_m == repack_n && tiles_m >= tiles_n));
    if ((plan.split_m ? tiles_m : tiles_n) < threads) plan.split_m = !plan.split_m;
    // A few pieces per thread, so a thread that is descheduled (a busy, shared machine) holds
    // back only a small piece the others can take, as long as each piece does >= ~1 MFLOP and
    // its repacking (~24 flops' worth per float) stays under ~10% of its work.
    const double per_entry = flops / static_cast<double>(batch.batches);
    const double repack = vector ? 0.0 : (plan.split_m ? repack_m : repack_n);
    long want = (3L * threads + batch.batches - 1) / batch.batches;
    while (want > threads && (per_entry / static_cast<double>(want) < 1.0e6 || 24.0 * repack > 0.1 * per_entry / static_cast<double>(want))) --want;
    const Index tiles = plan.split_m ? tiles_m : tiles_n;
    const Index per = (tiles + want - 1) / want;
    plan.piece = per * (plan.split_m ? unit_m : unit_n);
    plan.parts = static_cast<long>((tiles + per - 1) / per);
  }
  run_tasks(batch.batches * plan.parts, threads > 1 && flops >= g_parallel_min_flops, run_task, &plan);
  return plan.error.load();
}

std::ptrdiff_t packed_b_size(std::ptrdiff_t k, std::ptrdiff_t n) { return kernels()->packed_b_size(k, n); }

void pack_b(const float* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, std::ptrdiff_t k, std::ptrdiff_t n, float* dst) {
  kernels()->pack_b(b, rsb, csb, k, n, dst);
}

namespace {

struct PackedPlan {
  GemmProblem p;
  const float* bpacked;
  const KernelInfo* kin;
  Index piece;
  std::atomic<const char*> error{nullptr};
};

void run_packed_task(void* context, long task) {
  PackedPlan& plan = *static_cast<PackedPlan*>(context);
  GemmProblem p = plan.p;
  const Index start = task * plan.piece;
  if (start >= p.m) return;
  p.a += start * p.rsa;
  p.c += start * p.ldc;
  p.m = min_index(plan.piece, p.m - start);
  float* ap = t_apack.ensure(static_cast<std::size_t>(round_up(min_index(plan.kin->mc, p.m), plan.kin->mr) * min_index(plan.kin->kc, p.k) + 64));
  if (!ap) {
    plan.error.store("native GEMM: cannot allocate packing buffers");
    return;
  }
  plan.kin->gemm_packed(p, ap, plan.bpacked);
}

}  // namespace

const char* run_gemm_packed(const GemmProblem& p, const float* bpacked) {
  if (p.m <= 0 || p.n <= 0) return nullptr;
  if (p.k <= 0) {
    for (Index i = 0; i < p.m; ++i) std::memset(p.c + i * p.ldc, 0, sizeof(float) * static_cast<std::size_t>(p.n));
    return nullptr;
  }
  PackedPlan plan;
  plan.p = p;
  plan.bpacked = bpacked;
  plan.kin = kernels();
  const double flops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
  const long threads = g_pool.size();
  long parts = 1;
  if (threads > 1 && flops >= g_parallel_min_flops) parts = static_cast<long>(min_index((p.m + 1) / 2, threads));
  // Even row counts, not whole register tiles: at 32 rows and MR = 14, tiles would split 28/4.
  plan.piece = (p.m + parts - 1) / parts;
  parts = static_cast<long>((p.m + plan.piece - 1) / plan.piece);
  run_tasks(parts, parts > 1, run_packed_task, &plan);
  return plan.error.load();
}

const KernelInfo& active_kernels() { return *kernels(); }

const char* gemm_single(const GemmProblem& problem) { return gemm_one(*kernels(), problem); }

void parallel_for(long tasks, double work, void (*fn)(void* context, long task), void* context) {
  run_tasks(tasks, work >= g_parallel_min_flops, fn, context);
}

float* thread_scratch(std::size_t floats) { return t_ops.ensure(floats); }

bool select_isa(const char* name) {
  const std::string isa(name);
  if (isa == "auto") {
    g_kernels.store(best_kernels());
    return true;
  }
  if (isa == "generic") {
    g_kernels.store(generic_kernels());
    return true;
  }
#if defined(DEEPLINE_X64)
  if (isa == "avx2" && cpu_has_avx2()) {
    g_kernels.store(avx2_kernels());
    return true;
  }
  if (isa == "avx512" && cpu_has_avx512()) {
    g_kernels.store(avx512_kernels());
    return true;
  }
#endif
  return false;
}

const char* active_isa() { return kernels()->name; }

const char* supported_isas() {
  if (cpu_has_avx512()) return "avx512,avx2,generic";
  if (cpu_has_avx2()) return "avx2,generic";
  return "generic";
}

void set_threads(int n) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_pool.set_size(n);
}
int threads() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  return g_pool.size();
}
void set_spin_microseconds(long us) { g_pool.set_spin_microseconds(us); }
void set_parallel_min_flops(double flops) { g_parallel_min_flops = flops; }

}  // namespace deepline
