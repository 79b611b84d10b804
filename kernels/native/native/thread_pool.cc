#include "thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DEEPLINE_PAUSE() _mm_pause()
#else
#define DEEPLINE_PAUSE() std::this_thread::yield()
#endif

namespace deepline {

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  size_.store(1, std::memory_order_relaxed);
  stop_.store(false);
}

void ThreadPool::set_size(int threads) {
  if (threads < 1) threads = 1;
  if (threads == size()) return;
  stop_workers();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  size_.store(threads, std::memory_order_relaxed);
}

void ThreadPool::work_on(Job& job) {
  for (;;) {
    const long t = job.next.fetch_add(1, std::memory_order_relaxed);
    if (t >= job.total) return;
    job.fn(job.context, t);
    job.done.fetch_add(1, std::memory_order_release);
  }
}

double ThreadPool::run(long tasks, TaskFn fn, void* context) {
  if (tasks <= 0) return 0.0;
  if (workers_.empty() || tasks == 1) {  // (workers_ only changes under the caller's pool lock)
    for (long t = 0; t < tasks; ++t) fn(context, t);
    return 0.0;
  }
  const auto start = std::chrono::steady_clock::now();
  auto job = std::make_shared<Job>();
  job->fn = fn;
  job->context = context;
  job->total = tasks;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    generation_.fetch_add(1, std::memory_order_release);
    wake = sleepers_ > 0;
  }
  if (wake) wake_.notify_all();
  work_on(*job);
  const auto own_done = std::chrono::steady_clock::now();
  // Workers may still be finishing tasks they took; their writes are published by `done`.
  // Spin briefly, then yield: a worker that was descheduled mid-task needs this core back.
  for (unsigned spins = 0; job->done.load(std::memory_order_acquire) < tasks; ++spins) {
    if (spins < 4096) {
      DEEPLINE_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
  const auto end = std::chrono::steady_clock::now();
  const double total = std::chrono::duration<double>(end - start).count();
  return total > 0 ? std::chrono::duration<double>(end - own_done).count() / total : 0.0;
}

void ThreadPool::worker_loop() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_setcsr(_mm_getcsr() | 0x8040);  // flush denormals (see DenormalsAreZero in gemm.h)
#endif
  std::uint64_t seen = generation_.load(std::memory_order_acquire);
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    const long spin_ns = spin_ns_.load(std::memory_order_relaxed);
    for (unsigned spins = 1; generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed); ++spins) {
      DEEPLINE_PAUSE();
      if ((spins & 255) == 0 && std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count() > spin_ns) break;
    }
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (generation_.load() == seen && !stop_.load()) {
        ++sleepers_;
        wake_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
        --sleepers_;
      }
      if (stop_.load()) return;
      seen = generation_.load();
      job = job_;
    }
    if (job) work_on(*job);
  }
}

}  // namespace deepline
