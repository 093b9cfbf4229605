#include "libs/core/executor.h"

#include "absl/strings/str_cat.h"
#include "libs/core/cpus.h"

namespace fabrique::core {

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(Options options) {
  if (options.threads < 0 || options.max_queue < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("executor '", options.name, "': threads and max_queue must be >= 0"));
  }
  if (options.threads == 0) {
    options.threads = UsableCpus();  // A pod's CPU limit, not the node's cores.
  }
  auto executor = std::unique_ptr<Executor>(new Executor(options));
  for (int i = 0; i < options.threads; ++i) {
    executor->workers_.emplace_back([raw = executor.get()] { raw->Work(); });
  }
  return executor;
}

Executor::~Executor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

absl::Status Executor::Schedule(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::UnavailableError(absl::StrCat("executor '", options_.name, "' is stopping"));
  }
  if (static_cast<int>(queue_.size()) >= options_.max_queue) {
    return absl::ResourceExhaustedError(absl::StrCat("the ", options_.name, " queue is full (",
                                                     options_.max_queue,
                                                     " waiting); retry with backoff"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void Executor::Work() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Executor* e) { return e->stopping_ || !e->queue_.empty(); }, this));
      if (queue_.empty()) return;  // Stopping, and nothing left to run.
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace fabrique::core
