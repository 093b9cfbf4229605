#include "libs/training/run_queue.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/training/run_spec.h"

namespace fabrique::training {

using google::protobuf::util::TimeUtil;

absl::StatusOr<std::unique_ptr<RunQueue>> RunQueue::Create(RunQueueOptions options) {
  if (options.workers < 1) return absl::InvalidArgumentError("a run queue needs a worker");
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  ASSIGN_OR_RETURN(
      std::unique_ptr<RunPipeline> pipeline,
      RunPipeline::Create({options.runs, options.datasets, options.models, options.clock,
                           options.progress_interval, options.checkpoint_dir}));
  std::unique_ptr<RunQueue> queue(new RunQueue(options, std::move(pipeline)));
  // Runs still queued when the trainer last stopped go first, oldest first.
  absl::StatusOr<std::vector<std::string>> queued = options.runs->Queued();
  if (queued.ok()) {
    absl::MutexLock lock(&queue->mu_);
    queue->queue_.assign(queued->begin(), queued->end());
    queue->ReportLoad();
  } else {
    core::Log(core::LogLevel::kError, "queued_runs_unreadable",
              {{"error", std::string(queued.status().message())}});
  }
  return queue;
}

void RunQueue::Start() {
  if (!workers_.empty()) return;
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
}

RunQueue::~RunQueue() {
  Stop();
  for (std::thread& worker : workers_) worker.join();
}

void RunQueue::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  // Each run in progress is failed, saying the trainer stopped (the queued ones wait for the
  // next start, and so does one taken but not yet begun: its first step sees the token).
  // Refused while a version is being registered: then that finishes first.
  for (const auto& [run_id, cancel] : running_) cancel->Shutdown();
}

void RunQueue::ReportLoad() {
  if (options_.observer != nullptr) {
    options_.observer->OnLoad(static_cast<int>(queue_.size()), static_cast<int>(running_.size()));
  }
}

void RunQueue::Work() {
  while (true) {
    std::string run_id;
    CancelToken cancel;  // This run's: Cancel and the destructor reach it through running_.
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RunQueue* q)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) { return q->stopping_ || !q->queue_.empty(); },
          this));
      if (stopping_) return;
      run_id = std::move(queue_.front());
      queue_.pop_front();
      running_[run_id] = &cancel;
      ReportLoad();
    }
    if (options_.observer != nullptr) options_.observer->OnTaken(run_id);
    absl::StatusOr<v1::Run> run = options_.runs->Get(run_id);
    if (run.ok() && !RunStore::IsFinal(run->state())) {
      absl::StatusOr<v1::Run> ended = pipeline_->Execute(run_id, &cancel);
      if (ended.ok() && RunStore::IsFinal(ended->state()) && options_.observer != nullptr) {
        options_.observer->OnFinished(*ended);
      }
    }
    absl::MutexLock lock(&mu_);
    running_.erase(run_id);  // Before `cancel` goes: no one reaches it after this.
    ReportLoad();
  }
}

void RunQueue::Enqueue(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  if (!running_.contains(run_id) && !cancelling_.contains(run_id) &&
      std::find(queue_.begin(), queue_.end(), run_id) == queue_.end()) {
    queue_.push_back(run_id);
    ReportLoad();
  }
}

absl::StatusOr<v1::Run> RunQueue::Submit(const v1::SubmitRunRequest& request,
                                         const v1::Principal& caller, absl::Duration time_left) {
  // A retry of a submission already stored answers at once, whatever the feature store says now.
  if (!request.request_id().empty() && !request.validate_only()) {
    absl::StatusOr<v1::Run> earlier = options_.runs->FindByRequestId(request.request_id());
    if (earlier.ok()) {
      // A request id is unique across squads; another squad's run is not shown for it.
      if (earlier->squad() != request.squad()) {
        return absl::AlreadyExistsError(
            absl::StrCat("request id '", request.request_id(),
                         "' was used for a run of another squad: choose another"));
      }
      // Queued but not in the queue (the queue could not be read at start): queued again.
      if (earlier->state() == v1::RUN_STATE_QUEUED) Enqueue(earlier->run_id());
      return earlier;
    }
  }
  RETURN_IF_ERROR(CheckSpec(request.spec()));
  if (request.resume_from_epoch() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("resume_from_epoch is ",
                                                   request.resume_from_epoch(),
                                                   ": give the epoch to resume after, or 0"));
  }
  const absl::Time now = options_.clock->Now();
  RunContext context;
  context.caller = caller;
  context.squad = request.squad();
  context.deadline =
      time_left == absl::InfiniteDuration() ? absl::InfiniteFuture() : now + time_left;
  RETURN_IF_ERROR(options_.datasets->CheckFeatures(context, request.spec()));
  v1::Run run;
  *run.mutable_spec() = request.spec();
  *run.mutable_submitted_by() = caller;
  run.set_squad(request.squad());
  run.set_tower_job_id(request.tower_job_id());
  // Where to resume from, until the first epoch it trains records its own checkpoint.
  run.set_checkpoint_epoch(request.resume_from_epoch());
  // The deadline counts from the submission: time queued is part of it.
  if (request.has_deadline() && request.deadline().seconds() + request.deadline().nanos() > 0) {
    *run.mutable_deadline_time() = TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(now) + TimeUtil::DurationToMicroseconds(request.deadline()));
  }
  if (request.validate_only()) {
    run.set_state(v1::RUN_STATE_QUEUED);
    return run;
  }
  ASSIGN_OR_RETURN(v1::Run stored, options_.runs->Submit(run, request.request_id()));
  if (stored.state() == v1::RUN_STATE_QUEUED) Enqueue(stored.run_id());
  return stored;
}

absl::StatusOr<v1::Run> RunQueue::Cancel(const std::string& run_id, const v1::Principal& caller,
                                         const std::string& reason) {
  bool in_progress = false, refused = false;
  {
    absl::MutexLock lock(&mu_);
    if (auto running = running_.find(run_id); running != running_.end()) {
      // Its worker stops within one batch and records CANCELLED, unless it is registering.
      in_progress = true;
      refused = !running->second->Cancel(caller.subject(), reason);
    } else {
      if (auto queued = std::find(queue_.begin(), queue_.end(), run_id); queued != queue_.end()) {
        queue_.erase(queued);
        ReportLoad();
      }
      cancelling_.insert(run_id);
    }
  }
  if (in_progress) return CancelInProgress(run_id, refused);
  // Not in progress: queued (or ended, or unknown), which the store's transition tells apart.
  absl::StatusOr<v1::Run> cancelled = options_.runs->Transition(
      run_id, v1::RUN_STATE_CANCELLED,
      absl::StrCat("cancelled by ", caller.subject(), reason.empty() ? "" : ": ", reason));
  {
    absl::MutexLock lock(&mu_);
    cancelling_.erase(run_id);
  }
  if (cancelled.ok()) {
    if (options_.observer != nullptr) options_.observer->OnFinished(*cancelled);
    return cancelled;
  }
  // It had ended: say how (idempotent on ended runs). NOT_FOUND for an unknown run.
  if (absl::IsFailedPrecondition(cancelled.status())) return options_.runs->Get(run_id);
  return cancelled.status();
}

absl::StatusOr<v1::Run> RunQueue::CancelInProgress(const std::string& run_id, bool refused) {
  // Read after the token answered: a run that ended meanwhile (its worker has not yet let it
  // go) is answered as it ended, not as it was a moment before.
  ASSIGN_OR_RETURN(v1::Run run, options_.runs->Get(run_id));
  if (refused && !RunStore::IsFinal(run.state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("run '", run_id,
                     "' is registering its version: it can no longer be cancelled; archive "
                     "the version if it is not wanted"));
  }
  return run;
}

absl::Status RunQueue::Watch(const std::string& run_id, int64_t after,
                             const std::function<bool(const v1::RunEvent&)>& write,
                             const std::function<bool()>& gone) {
  RETURN_IF_ERROR(options_.runs->Get(run_id));
  bool open = true, ended = false;
  while (open && !ended && !gone() && !interrupted_) {
    RETURN_IF_ERROR(options_.runs->EventsAfter(run_id, after, [&](const v1::RunEvent& e) {
      after = e.sequence();
      ended = e.has_final_run();
      open = write(e);
      return open && !ended;
    }));
    if (!open || ended) break;
    // Resumed after a run's last event: nothing more will come.
    absl::StatusOr<v1::Run> now = options_.runs->Get(run_id);
    if (now.ok() && RunStore::IsFinal(now->state()) &&
        options_.runs->WaitForEventAfter(run_id, after, absl::ZeroDuration()) <= after) {
      break;
    }
    options_.runs->WaitForEventAfter(run_id, after, absl::Seconds(1));
  }
  if (interrupted_ && !ended) {
    return absl::UnavailableError(
        absl::StrCat("the trainer is stopping: reconnect with after_sequence=", after));
  }
  return absl::OkStatus();
}

void RunQueue::Interrupt() { interrupted_ = true; }

bool RunQueue::AwaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(
                                  +[](const RunQueue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) {
                                    return q->queue_.empty() && q->running_.empty();
                                  },
                                  this),
                              timeout);
}

}  // namespace fabrique::training
