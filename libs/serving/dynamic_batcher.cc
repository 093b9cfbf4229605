#include "libs/serving/dynamic_batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/serving/batch_execution.h"
#include "libs/serving/batch_queue.h"

namespace fabrique::serving {
namespace {

// INVALID_ARGUMENT naming the first option out of range.
absl::Status CheckOptions(const BatcherOptions& options) {
  const auto invalid = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("BatcherOptions.", parts...));
  };
  if (options.max_batch_size < 1) {
    return invalid("max_batch_size is ", options.max_batch_size, "; it must be at least 1");
  }
  if (options.max_queue_delay < absl::ZeroDuration()) {
    return invalid("max_queue_delay is ", absl::FormatDuration(options.max_queue_delay),
                   "; it must not be negative");
  }
  for (int size : options.preferred_batch_sizes) {
    if (size < 1 || size > options.max_batch_size) {
      return invalid("preferred_batch_sizes has ", size,
                     "; each must be in [1, max_batch_size = ", options.max_batch_size, "]");
    }
  }
  if (options.instances < 1) {
    return invalid("instances is ", options.instances, "; it must be at least 1");
  }
  if (options.max_queue_rows < options.max_batch_size) {
    return invalid("max_queue_rows is ", options.max_queue_rows,
                   "; it must be at least max_batch_size (", options.max_batch_size,
                   ") or a full request could never be queued");
  }
  if (options.clock == nullptr) return invalid("clock is null; leave it at the default");
  return absl::OkStatus();
}

BatchQueue::Limits QueueLimits(const BatcherOptions& options) {
  BatchQueue::Limits limits;
  limits.max_batch_size = options.max_batch_size;
  limits.max_queue_delay = options.max_queue_delay;
  limits.preferred_batch_sizes = options.preferred_batch_sizes;
  return limits;
}

}  // namespace

// The queue and its threads' loop: everything a compute thread touches, so it can outlive the
// DynamicBatcher when that is destroyed from the thread's own `done` (see JoinThreads).
class DynamicBatcher::Core {
 public:
  Core(const BatcherOptions& options, BatchCompute compute)
      : max_queue_rows_(options.max_queue_rows),
        clock_(options.clock),
        compute_(std::move(compute)),
        queue_(QueueLimits(options)) {}

  void Submit(TensorBatch inputs, absl::Time deadline, BatchDone done);
  // A compute thread's body: forms batches and runs them until stopped and drained.
  void Work();
  // Refuses later Submits and wakes every thread to drain the queue.
  void BeginStop();
  // Whether the calling thread is one of this batcher's compute threads.
  bool OnOwnThread() const;
  int64_t queued_rows() const;

 private:
  // Waits for the next batch and moves its requests into `batch`; false once stopped and empty.
  bool NextBatch(std::vector<QueuedRequest>* batch, absl::Time* formed_at);
  void AwaitRows(absl::Duration left) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Admit(int64_t rows, absl::Time now, absl::Time deadline) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t max_queue_rows_;
  core::Clock* const clock_;
  const BatchCompute compute_;

  mutable absl::Mutex mu_;
  // Signalled when rows arrive, when a batch leaves rows behind and on Stop: an idle thread sleeps
  // here instead of polling the queue.
  absl::CondVar work_;
  BatchQueue queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Whether an idle thread is already timing the head's delay (see AwaitRows).
  bool timer_held_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {
// The Core whose compute thread this is; null on any other thread.
thread_local const void* own_core = nullptr;
}  // namespace

absl::Status DynamicBatcher::Core::Admit(int64_t rows, absl::Time now, absl::Time deadline) const {
  if (rows < 1 || rows > queue_.max_batch_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a request of ", rows, " rows cannot be batched: send between 1 and ",
                     queue_.max_batch_size(), " rows (the maximum batch size) per request"));
  }
  if (stopping_) {
    return absl::UnavailableError(
        "the batcher is stopped: its model version is being unloaded; retry to reach the version "
        "serving now");
  }
  if (now >= deadline) {
    return absl::DeadlineExceededError(
        "the request's deadline had passed before it was queued; it was not computed");
  }
  if (queue_.rows() + rows > max_queue_rows_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the batch queue is full: ", queue_.rows(), " of its ", max_queue_rows_,
                     " rows are waiting and this request has ", rows, "; slow down and retry"));
  }
  return absl::OkStatus();
}

void DynamicBatcher::Core::Submit(TensorBatch inputs, absl::Time deadline, BatchDone done) {
  if (!done) return;  // No one to answer: computing it would be wasted.
  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    refusal = Admit(inputs.rows, now, deadline);
    if (refusal.ok()) {
      queue_.Push(QueuedRequest{std::move(inputs), now, deadline, std::move(done)});
      // One idle thread is enough to look at the head again; waking all would only make the
      // others go back to sleep. Signal costs nothing when every thread is computing.
      work_.Signal();
      return;
    }
  }
  done(std::move(refusal), BatchStats());  // Outside the lock: `done` may submit again.
}

void DynamicBatcher::Core::Work() {
  own_core = this;
  std::vector<QueuedRequest> batch;
  std::vector<const TensorBatch*> scratch;
  // Sized once per thread, so forming and joining a batch allocates nothing per request.
  batch.reserve(static_cast<size_t>(queue_.max_batch_size()));
  scratch.reserve(static_cast<size_t>(queue_.max_batch_size()));
  absl::Time formed_at;
  while (NextBatch(&batch, &formed_at)) {
    ExecuteBatch(&batch, formed_at, compute_, *clock_, &scratch);
  }
}

bool DynamicBatcher::Core::NextBatch(std::vector<QueuedRequest>* batch, absl::Time* formed_at) {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (queue_.empty()) {
      if (stopping_) return false;
      work_.Wait(&mu_);
      continue;
    }
    const absl::Time now = clock_->Now();
    const BatchDecision decision = queue_.Decide(now, /*draining=*/stopping_);
    if (decision.dispatch) {
      queue_.Take(decision.requests, batch);
      *formed_at = now;
      // The rows left behind may already make a batch, or need their delay timed.
      if (!queue_.empty()) work_.Signal();
      return true;
    }
    AwaitRows(decision.wake_at - now);
  }
}

void DynamicBatcher::Core::AwaitRows(absl::Duration left) {
  // One idle thread times the head's delay; the others sleep until rows arrive, so a delay
  // running out wakes one thread, not every instance.
  if (timer_held_) {
    work_.Wait(&mu_);
    return;
  }
  timer_held_ = true;
  // An injected clock may jump ahead without waking anyone (FakeClock::Advance), so look again
  // at least every kInterruptPoll of real time. Serving delays (200 µs by default) are far
  // shorter, so with the real clock this wait is exact: no polling.
  work_.WaitWithTimeout(&mu_, std::min(left, core::Clock::kInterruptPoll));
  timer_held_ = false;
}

void DynamicBatcher::Core::BeginStop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  work_.SignalAll();
}

bool DynamicBatcher::Core::OnOwnThread() const { return own_core == this; }

int64_t DynamicBatcher::Core::queued_rows() const {
  absl::MutexLock lock(&mu_);
  return queue_.rows();
}

absl::StatusOr<std::unique_ptr<DynamicBatcher>> DynamicBatcher::Create(BatcherOptions options,
                                                                       BatchCompute compute) {
  if (absl::Status valid = CheckOptions(options); !valid.ok()) return valid;
  if (!compute) return absl::InvalidArgumentError("the batcher needs a compute function");
  std::unique_ptr<DynamicBatcher> batcher(
      new DynamicBatcher(std::make_shared<Core>(options, std::move(compute))));
  absl::MutexLock lock(&batcher->join_mu_);
  try {
    for (int i = 0; i < options.instances; ++i) {
      // Each thread holds the Core itself (see core_).
      batcher->threads_.emplace_back([core = batcher->core_] { core->Work(); });
    }
  } catch (const std::exception& e) {
    // The destructor stops and joins the threads already started.
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start ", options.instances, " batcher threads: ", e.what()));
  }
  return batcher;
}

DynamicBatcher::DynamicBatcher(std::shared_ptr<Core> core) : core_(std::move(core)) {}

DynamicBatcher::~DynamicBatcher() {
  core_->BeginStop();
  JoinThreads();
}

void DynamicBatcher::Submit(TensorBatch inputs, absl::Time deadline, BatchDone done) {
  core_->Submit(std::move(inputs), deadline, std::move(done));
}

void DynamicBatcher::Stop() {
  core_->BeginStop();
  if (core_->OnOwnThread()) return;
  JoinThreads();
}

void DynamicBatcher::JoinThreads() {
  absl::MutexLock lock(&join_mu_);
  for (std::thread& thread : threads_) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  }
  threads_.clear();
}

int64_t DynamicBatcher::queued_rows() const { return core_->queued_rows(); }

}  // namespace fabrique::serving
