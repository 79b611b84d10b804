// The GEMM entry point the N-API layer calls: picks the kernel set, the GEMV paths and the
// split over the thread pool.
#pragma once

#include "gemm_types.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace deepline {

// Flushes denormals to zero (FTZ + DAZ) while alive, restoring the caller's mode after: tiny
// gradients would otherwise hit the slow microcode path. Pool workers set it once at start.
class DenormalsAreZero {
 public:
#if defined(__x86_64__) || defined(_M_X64)
  DenormalsAreZero() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }
  ~DenormalsAreZero() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#endif
};

// A batch of GEMMs of one shape: problem i uses a + a_offsets[i], b + b_offsets[i] (in
// elements; null offsets mean 0 for every batch) and c + i*c_batch_stride.
struct BatchedGemm {
  GemmProblem first;
  long batches;
  const long* a_offsets;
  const long* b_offsets;
  std::ptrdiff_t c_batch_stride;
};

// Runs the batch; returns null, or a message when scratch memory cannot be allocated.
const char* run_gemm(const BatchedGemm& batch);

// Floats a B of k x n takes once packed for the active kernel set (without slack).
std::ptrdiff_t packed_b_size(std::ptrdiff_t k, std::ptrdiff_t n);
// Packs B (k x n, strides rsb/csb) for the active kernel set; dst holds packed_b_size + 64
// floats and is 64-byte aligned.
void pack_b(const float* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, std::ptrdiff_t k, std::ptrdiff_t n, float* dst);
// C = A·B with B pre-packed by pack_b under the same kernel set (p.b is ignored); split over
// the pool along M, so every piece reads the one packed copy.
const char* run_gemm_packed(const GemmProblem& p, const float* bpacked);

// Instruction set: "auto" (best the CPU supports), "avx512", "avx2" or "generic". Returns
// false when the CPU (or this build) lacks it; the selection is unchanged then.
bool select_isa(const char* name);
const char* active_isa();
// Comma-separated kernel sets this CPU and build can run, best first.
const char* supported_isas();

// The kernel set in use (for the element-wise kernels the fused ops call).
const KernelInfo& active_kernels();
// One GEMM on the calling thread (used inside tasks that are already parallel).
const char* gemm_single(const GemmProblem& problem);
// Runs fn(context, t) for t < tasks on the pool when `work` (flops or elements x weight)
// reaches the parallel threshold, else on the calling thread.
void parallel_for(long tasks, double work, void (*fn)(void* context, long task), void* context);
// Per-thread float scratch (grown on demand), distinct from the GEMM packing buffers.
float* thread_scratch(std::size_t floats);

void set_threads(int threads);
int threads();
void set_spin_microseconds(long us);
// Minimum 2*m*n*k (summed over the batch) before a call is split across threads.
void set_parallel_min_flops(double flops);

}  // namespace deepline
