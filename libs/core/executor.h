#ifndef FABRIQUE_LIBS_CORE_EXECUTOR_H_
#define FABRIQUE_LIBS_CORE_EXECUTOR_H_

// A fixed pool of worker threads with a bounded queue. Hot-path adapters (online lookup,
// inference) run their blocking work here so gRPC's callback threads never wait on RocksDB or
// LibTorch; a full queue is refused at once (RESOURCE_EXHAUSTED: slow down) rather than letting
// latency grow without bound.

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace fabrique::core {

class Executor {
 public:
  struct Options {
    // Name used in error messages, e.g. "lookup". Default "executor".
    std::string name = "executor";
    // Worker threads. Default 0 = the CPUs the process may use (core::UsableCpus).
    int threads = 0;
    // Tasks waiting beyond the running ones before Schedule refuses. Default 1024.
    int max_queue = 1024;
  };

  static absl::StatusOr<std::unique_ptr<Executor>> Create(Options options);
  // Runs every task already queued, then joins the workers.
  ~Executor();

  // Queues `task`; RESOURCE_EXHAUSTED (naming the pool and its limit) when the queue is full.
  absl::Status Schedule(std::function<void()> task);

  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  explicit Executor(Options options) : options_(std::move(options)) {}
  void Work();

  const Options options_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_EXECUTOR_H_
