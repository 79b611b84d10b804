// A persistent pool of worker threads for splitting one GEMM call into tiles. The calling
// thread takes part, so a pool of size 1 has no extra thread. Idle workers spin briefly
// (GEMM calls arrive back to back during a training step) and then sleep on a condvar.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace deepline {

class ThreadPool {
 public:
  using TaskFn = void (*)(void* context, long task);

  ThreadPool() = default;
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total threads taking part in run(), the caller included (>= 1).
  void set_size(int threads);
  int size() const { return size_.load(std::memory_order_relaxed); }
  // How long an idle worker polls for the next job before it sleeps.
  void set_spin_microseconds(long us) { spin_ns_.store(us * 1000, std::memory_order_relaxed); }

  // Runs fn(context, t) for t in [0, tasks) across the pool; returns when all are done, with
  // the fraction of the call the calling thread spent waiting for workers after its own share.
  double run(long tasks, TaskFn fn, void* context);

 private:
  struct Job {
    TaskFn fn;
    void* context;
    long total;
    std::atomic<long> next{0};
    std::atomic<long> done{0};
  };

  static void work_on(Job& job);
  void worker_loop();
  void stop_workers();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::shared_ptr<Job> job_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<long> spin_ns_{50000};
  int sleepers_ = 0;
  std::atomic<int> size_{1};
};

}  // namespace deepline
