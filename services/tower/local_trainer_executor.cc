#include "services/tower/local_trainer_executor.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/training/run_store.h"

namespace fabrique::services {
namespace {

using google::protobuf::util::TimeUtil;

// How long one WatchRun stream may stay open before it is reopened from where it was: a run
// outlives any single deadline the stream could carry.
constexpr absl::Duration kWatchSpan = absl::Hours(1);
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr absl::Duration kEpochReadInterval = absl::Seconds(1);

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

// Why the run is in its state: its failure reason, or the reason of the change into it (a
// cancel's "cancelled by ... while training: ...").
std::string ReasonOf(const v1::Run& run) {
  if (!run.failure_reason().empty()) return run.failure_reason();
  for (int i = run.history_size() - 1; i >= 0; --i) {
    if (run.history(i).to_state() == run.state()) return run.history(i).reason();
  }
  return "";
}

}  // namespace

// One run followed on its own thread. The stream's context is reachable from the executor so
// that closing it ends a blocked Read at once.
struct LocalTrainerExecutor::Follower {
  Follower(v1::Job job, std::string run_id, tower::ExecutionSink* sink,
           client::TrainerClient client)
      : job(std::move(job)), run_id(std::move(run_id)), sink(sink), client(std::move(client)) {}

  const v1::Job job;
  const std::string run_id;
  tower::ExecutionSink* const sink;
  const client::TrainerClient client;
  std::atomic<bool> done{false};
  absl::Mutex mu;
  grpc::ClientContext* stream ABSL_GUARDED_BY(mu) = nullptr;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::thread thread;
};

LocalTrainerExecutor::LocalTrainerExecutor(LocalTrainerExecutorOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<LocalTrainerExecutor>> LocalTrainerExecutor::Create(
    LocalTrainerExecutorOptions options) {
  if (options.trainer == nullptr) {
    return absl::InvalidArgumentError("the local executor needs a channel to the trainer");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<LocalTrainerExecutor>(new LocalTrainerExecutor(std::move(options)));
}

LocalTrainerExecutor::~LocalTrainerExecutor() {
  std::vector<Follower*> all;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    for (auto& [run_id, follower] : followers_) all.push_back(follower.get());
  }
  for (Follower* follower : all) {
    absl::MutexLock lock(&follower->mu);
    follower->stopping = true;
    if (follower->stream != nullptr) follower->stream->TryCancel();
  }
  for (Follower* follower : all) {
    if (follower->thread.joinable()) follower->thread.join();
  }
}

void LocalTrainerExecutor::CountError() const {
  if (options_.on_error) options_.on_error();
}

client::TrainerClient LocalTrainerExecutor::ClientFor(const v1::Job& job) const {
  client::CallContext call;
  call.timeout = options_.call_timeout;
  const v1::Principal& submitter = job.submitted_by();
  if (!submitter.subject().empty() && !absl::StartsWith(submitter.subject(), "service:")) {
    call.credentials.on_behalf_of_user = submitter.subject();
    call.credentials.on_behalf_of_groups.assign(submitter.groups().begin(),
                                                submitter.groups().end());
  }
  return client::TrainerClient(options_.trainer, {"trainer", options_.trainer_target},
                               std::move(call), client::RetryPolicy{}, options_.clock);
}

tower::ExecutionUpdate LocalTrainerExecutor::UpdateOf(const v1::Job& job, const v1::Run& run,
                                                      absl::Time now) {
  tower::ExecutionUpdate update;
  update.job_id = job.id();
  update.trainer_run_id = run.run_id();
  update.checkpoint_epoch = run.checkpoint_epoch();
  switch (run.state()) {
    case v1::RUN_STATE_SUCCEEDED:
      update.state = v1::JOB_STATE_SUCCEEDED;
      update.result_version.set_model(run.registered_version().model());
      update.result_version.set_version(run.registered_version().version());
      break;
    case v1::RUN_STATE_FAILED:
      update.state = v1::JOB_STATE_FAILED;
      update.reason = ReasonOf(run);
      break;
    case v1::RUN_STATE_CANCELLED:
      update.state = v1::JOB_STATE_CANCELLED;
      update.reason = ReasonOf(run);
      break;
    default:
      update.state = v1::JOB_STATE_RUNNING;
  }
  // Request-based accounting: what the job reserved, for as long as its run went on (from the
  // trainer taking it to its end, or to now). A run cancelled while queued used nothing.
  if (run.has_start_time()) {
    const absl::Time end = run.has_end_time() ? TimeOf(run.end_time()) : now;
    const double seconds = std::max(0.0, absl::ToDoubleSeconds(end - TimeOf(run.start_time())));
    const v1::ResourceRequest& asked = job.spec().resources();
    const double cores = asked.cpu_cores() > 0 ? asked.cpu_cores() : 1.0;
    const double gib = asked.memory_bytes() > 0 ? asked.memory_bytes() / kGiB : 1.0;
    update.usage.set_cpu_seconds(seconds * cores);
    update.usage.set_memory_gib_seconds(seconds * gib);
    update.usage.set_gpu_seconds(seconds * asked.gpus());
  }
  return update;
}

absl::StatusOr<v1::Run> LocalTrainerExecutor::Submit(const v1::Job& job) const {
  v1::SubmitRunRequest request;
  *request.mutable_spec() = job.spec().training();
  request.set_tower_job_id(job.id());
  request.set_squad(job.squad());
  request.set_request_id(absl::StrCat(job.id(), "-", job.preemptions()));
  request.set_resume_from_epoch(job.checkpoint_epoch());
  if (job.spec().has_max_runtime()) *request.mutable_deadline() = job.spec().max_runtime();
  absl::StatusOr<v1::Run> run =
      ClientFor(job).CallIdempotent(&client::TrainerClient::Stub::SubmitRun, request,
                                    absl::StrCat("SubmitRun ", request.request_id()));
  if (!run.ok()) CountError();
  return run;
}

absl::Status LocalTrainerExecutor::Start(const v1::Job& job, tower::ExecutionSink* sink) {
  if (!job.spec().has_training()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job.id(),
                     " has no training spec: the local executor runs trainer "
                     "runs only"));
  }
  ASSIGN_OR_RETURN(const v1::Run run, Submit(job));
  Attach(job, run.run_id(), sink);
  return absl::OkStatus();
}

absl::Status LocalTrainerExecutor::Follow(const v1::Job& job, tower::ExecutionSink* sink) {
  if (!job.trainer_run_id().empty()) {
    Attach(job, job.trainer_run_id(), sink);
    return absl::OkStatus();
  }
  // The start was not recorded: the same request id finds the run the first Start made (or
  // makes it, if that submission never reached the trainer).
  return Start(job, sink);
}

absl::Status LocalTrainerExecutor::Stop(const v1::Job& job, absl::string_view reason) {
  std::string run_id = job.trainer_run_id();
  if (run_id.empty()) {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, follower] : followers_) {
      if (follower->job.id() == job.id() && !follower->done) run_id = id;
    }
  }
  if (run_id.empty()) {
    return absl::NotFoundError(absl::StrCat("job ", job.id(), " has no trainer run to stop"));
  }
  v1::CancelRunRequest request;
  request.set_run_id(run_id);
  request.set_reason(std::string(reason));
  absl::StatusOr<v1::Run> cancelled = ClientFor(job).CallIdempotent(
      &client::TrainerClient::Stub::CancelRun, request, absl::StrCat("CancelRun ", run_id));
  if (!cancelled.ok() && !absl::IsFailedPrecondition(cancelled.status())) CountError();
  return cancelled.status();
}

void LocalTrainerExecutor::Attach(const v1::Job& job, const std::string& run_id,
                                  tower::ExecutionSink* sink) {
  std::unique_ptr<Follower> ended;  // A finished follower of the same run, joined outside.
  absl::MutexLock lock(&mu_);
  if (closing_) return;
  auto found = followers_.find(run_id);
  if (found != followers_.end()) {
    if (!found->second->done) return;  // Followed already: Start is idempotent.
    ended = std::move(found->second);
    followers_.erase(found);
  }
  auto follower = std::make_unique<Follower>(job, run_id, sink, ClientFor(job));
  Follower* raw = follower.get();
  followers_[run_id] = std::move(follower);
  raw->thread = std::thread([this, raw] { Run(raw); });
  // Its thread has returned or is returning: the join is immediate.
  if (ended != nullptr && ended->thread.joinable()) ended->thread.join();
}

void LocalTrainerExecutor::Run(Follower* f) {
  using Stub = client::TrainerClient::Stub;
  const auto stopping = [f] {
    absl::MutexLock lock(&f->mu);
    return f->stopping;
  };
  // Waits the backoff, or less when the executor closes.
  const auto pause = [&] {
    absl::MutexLock lock(&f->mu);
    f->mu.AwaitWithTimeout(absl::Condition(&f->stopping), options_.reconnect_backoff);
  };
  // Reports the run's current record; true when it is final.
  const auto report = [&](const v1::Run& run) {
    f->sink->OnUpdate(UpdateOf(f->job, run, options_.clock->Now()));
    return training::RunStore::IsFinal(run.state());
  };
  const auto read_run = [&]() -> absl::StatusOr<v1::Run> {
    v1::GetRunRequest request;
    request.set_run_id(f->run_id);
    return f->client.CallIdempotent(&Stub::GetRun, request, absl::StrCat("GetRun ", f->run_id));
  };

  // The trainer no longer knows the run (its data was lost): the job cannot go on.
  const auto lost = [&](const absl::Status& status) {
    tower::ExecutionUpdate update;
    update.job_id = f->job.id();
    update.trainer_run_id = f->run_id;
    update.state = v1::JOB_STATE_FAILED;
    update.reason = absl::StrCat("the trainer has no run ", f->run_id, " any more (",
                                 status.message(), "): submit the job again");
    f->sink->OnUpdate(update);
  };

  int64_t after = 0;
  bool first = true;
  absl::Time last_read = absl::InfinitePast();
  while (!stopping()) {
    // The record first: RUNNING (with the run id) at the start, or how it ended already.
    if (first) {
      absl::StatusOr<v1::Run> run = read_run();
      if (run.ok()) {
        first = false;
        if (report(*run)) break;
      } else if (absl::IsNotFound(run.status())) {
        lost(run.status());
        break;
      } else {
        CountError();
        pause();
        continue;
      }
    }
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = f->client.NewContext(kWatchSpan);
    if (!context.ok()) {
      core::Log(core::LogLevel::kError, "executor_watch_context",
                {{"run", f->run_id}, {"error", std::string(context.status().message())}});
      break;
    }
    {
      absl::MutexLock lock(&f->mu);
      if (f->stopping) break;
      f->stream = context->get();
    }
    v1::WatchRunRequest request;
    request.set_run_id(f->run_id);
    request.set_after_sequence(after);
    auto reader = f->client.stub()->WatchRun(context->get(), request);
    v1::RunEvent event;
    bool final = false;
    while (!final && reader->Read(&event)) {
      after = event.sequence();
      if (event.has_final_run()) {
        final = report(event.final_run());
      } else if (event.has_progress() && event.epoch_end() &&
                 options_.clock->Now() - last_read >= kEpochReadInterval) {
        // An epoch ended: its checkpoint and the usage so far. At most once a second, so that
        // short epochs, or a resumed watch replaying many, do not turn into as many reads.
        last_read = options_.clock->Now();
        absl::StatusOr<v1::Run> run = read_run();
        if (run.ok() && report(*run)) final = true;
      }
    }
    if (final) context->get()->TryCancel();
    const grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&f->mu);
      f->stream = nullptr;
    }
    if (final) break;
    if (stopping()) break;
    // The stream ended without the final event: the trainer stopping (UNAVAILABLE, resume from
    // `after`), the span passing, or a resume after the last event. The record says which.
    absl::StatusOr<v1::Run> run = read_run();
    if (run.ok() && training::RunStore::IsFinal(run->state())) {
      report(*run);
      break;
    }
    if (absl::IsNotFound(run.status())) {
      lost(run.status());
      break;
    }
    if (!status.ok()) {
      CountError();
      pause();
    }
  }
  f->done = true;
}

}  // namespace fabrique::services
