#include "services/trainer/trainer_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/grpc_status.h"
#include "libs/core/log.h"
#include "libs/server/caller.h"
#include "libs/training/search.h"
#include "libs/training/tabular_trainer.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;
using google::protobuf::util::TimeUtil;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// What can be checked without asking anyone.
grpc::Status CheckSpec(const v1::RunSpec& spec) {
  if (spec.model_name().empty()) return Invalid("RunSpec.model_name is required");
  if (spec.features().empty()) return Invalid("RunSpec.features is empty: name the inputs");
  for (const v1::FeatureRef& f : spec.features()) {
    if (f.group().empty() || f.feature().empty()) {
      return Invalid("every RunSpec.features entry needs a group and a feature");
    }
  }
  if (spec.label().source_case() == v1::LabelSource::SOURCE_NOT_SET) {
    return Invalid("RunSpec.label is missing: a label feature, or label events");
  }
  if (spec.batch_size() < 0 || spec.epochs() < 0) {
    return Invalid("batch_size and epochs must be positive (0 = the defaults)");
  }
  if (spec.family().has_mlp()) {
    for (int h : spec.family().mlp().hidden_sizes()) {
      if (h < 1) return Invalid("every hidden size must be at least 1");
    }
    if (spec.family().mlp().dropout() < 0 || spec.family().mlp().dropout() >= 1) {
      return Invalid("dropout must be in [0, 1)");
    }
  }
  if (spec.has_search()) {
    absl::StatusOr<std::vector<training::TrialSettings>> trials =
        training::ExpandSearch(spec.search());
    if (!trials.ok()) return ToGrpcStatus(trials.status());
    for (const training::TrialSettings& settings : *trials) {
      absl::StatusOr<training::TrainConfig> config =
          training::ApplySettings(training::ConfigFromSpec(spec), settings);
      if (!config.ok()) return ToGrpcStatus(config.status());
    }
  }
  if (spec.device() == v1::DEVICE_CUDA && !training::CudaAvailable()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "device cuda was asked for, but this trainer has no CUDA device: use "
                        "auto or cpu");
  }
  return grpc::Status::OK;
}

}  // namespace

TrainerService::TrainerService(training::RunStore* runs, RemoteDatasets* datasets,
                               RemoteModels* models, prometheus::Registry& metrics)
    : runs_(runs),
      datasets_(datasets),
      models_(models),
      pipeline_({runs, datasets, models}),
      finished_(prometheus::BuildCounter()
                    .Name("fabrique_trainer_runs_finished_total")
                    .Help("Runs that reached a final state, by state (succeeded, failed, "
                          "cancelled).")
                    .Register(metrics)),
      stage_seconds_(prometheus::BuildCounter()
                         .Name("fabrique_trainer_stage_seconds_total")
                         .Help("Seconds finished runs spent in each state (queued, "
                               "building_dataset, training, evaluating, registering).")
                         .Register(metrics)),
      samples_(prometheus::BuildCounter()
                   .Name("fabrique_trainer_samples_trained_total")
                   .Help("Training rows processed by the epochs of finished runs' trials.")
                   .Register(metrics)
                   .Add({})),
      queued_(prometheus::BuildGauge()
                  .Name("fabrique_trainer_runs_queued")
                  .Help("Runs waiting for the worker.")
                  .Register(metrics)
                  .Add({})),
      running_gauge_(prometheus::BuildGauge()
                         .Name("fabrique_trainer_runs_running")
                         .Help("Runs in progress (0 or 1: one worker).")
                         .Register(metrics)
                         .Add({})) {
  for (const char* state : {"succeeded", "failed", "cancelled"}) {
    finished_.Add({{"state", state}});  // Present at 0, so rates exist from the start.
  }
  // Runs still queued when the trainer last stopped go first, oldest first.
  absl::StatusOr<std::vector<std::string>> queued = runs_->Queued();
  if (queued.ok()) {
    absl::MutexLock lock(&mu_);
    queue_.assign(queued->begin(), queued->end());
    queued_.Set(static_cast<double>(queue_.size()));
  } else {
    core::Log(core::LogLevel::kError, "queued_runs_unreadable",
              {{"error", std::string(queued.status().message())}});
  }
  worker_ = std::thread([this] { WorkLoop(); });
}

TrainerService::~TrainerService() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // The run in progress is failed, saying the trainer stopped (the queued ones wait for the next
  // start). Refused while a version is being registered: then that finishes first.
  cancel_.Shutdown();
  worker_.join();
  datasets_->set_cancel(nullptr);  // The token dies with the service; the datasets may not.
}

void TrainerService::Interrupt() { interrupted_ = true; }

void TrainerService::WorkLoop() {
  while (true) {
    std::string run_id;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](TrainerService* s)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) { return s->stopping_ || !s->queue_.empty(); },
          this));
      if (stopping_) return;
      run_id = queue_.front();
      queue_.pop_front();
      queued_.Set(static_cast<double>(queue_.size()));
      running_ = run_id;
      running_gauge_.Set(1);
      cancel_.Reset();
    }
    absl::StatusOr<v1::Run> run = runs_->Get(run_id);
    if (run.ok() && !training::RunStore::IsFinal(run->state())) {
      const absl::Time deadline =
          run->has_deadline_time()
              ? absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(run->deadline_time()))
              : absl::InfiniteFuture();
      models_->set_caller(run->submitted_by());
      models_->set_deadline(deadline);
      datasets_->set_deadline(deadline);
      datasets_->set_cancel(&cancel_);
      absl::StatusOr<v1::Run> ended = pipeline_.Execute(run_id, &cancel_, deadline);
      if (ended.ok() && training::RunStore::IsFinal(ended->state())) CountFinished(*ended);
    }
    absl::MutexLock lock(&mu_);
    running_.clear();
    running_gauge_.Set(0);
  }
}

void TrainerService::Enqueue(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  if (running_ != run_id && std::find(queue_.begin(), queue_.end(), run_id) == queue_.end()) {
    queue_.push_back(run_id);
    queued_.Set(static_cast<double>(queue_.size()));
  }
}

void TrainerService::CountFinished(const v1::Run& run) {
  const auto name = [](v1::RunState state) {
    return absl::AsciiStrToLower(absl::StripPrefix(v1::RunState_Name(state), "RUN_STATE_"));
  };
  finished_.Add({{"state", name(run.state())}}).Increment();
  // Each state lasted from its change to the next one.
  for (int i = 0; i + 1 < run.history_size(); ++i) {
    const int64_t micros = TimeUtil::TimestampToMicroseconds(run.history(i + 1).time()) -
                           TimeUtil::TimestampToMicroseconds(run.history(i).time());
    stage_seconds_.Add({{"stage", name(run.history(i).to_state())}})
        .Increment(std::max<double>(0, micros / 1e6));
  }
  int64_t epochs = 0;
  for (const v1::Trial& trial : run.trials()) epochs += trial.epochs_completed();
  samples_.Increment(static_cast<double>(run.split_counts().train_rows() * epochs));
}

grpc::Status TrainerService::SubmitRun(grpc::ServerContext* context,
                                       const v1::SubmitRunRequest* request, v1::Run* response) {
  // A retry of a submission already stored answers at once, whatever the feature store says now.
  if (!request->request_id().empty() && !request->validate_only()) {
    absl::StatusOr<v1::Run> earlier = runs_->FindByRequestId(request->request_id());
    if (earlier.ok()) {
      // Queued but not in the queue (the queue could not be read at start): queued again.
      if (earlier->state() == v1::RUN_STATE_QUEUED) Enqueue(earlier->run_id());
      *response = *std::move(earlier);
      return grpc::Status::OK;
    }
  }
  if (grpc::Status checked = CheckSpec(request->spec()); !checked.ok()) return checked;
  if (absl::Status known = datasets_->CheckFeatures(request->spec()); !known.ok()) {
    return ToGrpcStatus(known);
  }
  v1::Run run;
  *run.mutable_spec() = request->spec();
  *run.mutable_submitted_by() = server::CallerOf(*context);
  run.set_tower_job_id(request->tower_job_id());
  // The deadline counts from the submission: time queued is part of it.
  if (request->has_deadline() && request->deadline().seconds() + request->deadline().nanos() > 0) {
    *run.mutable_deadline_time() = TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(absl::Now()) + TimeUtil::DurationToMicroseconds(request->deadline()));
  }
  if (request->validate_only()) {
    run.set_state(v1::RUN_STATE_QUEUED);
    *response = run;
    return grpc::Status::OK;
  }
  absl::StatusOr<v1::Run> stored = runs_->Submit(run, request->request_id());
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  if (stored->state() == v1::RUN_STATE_QUEUED) Enqueue(stored->run_id());
  *response = *std::move(stored);
  return grpc::Status::OK;
}

grpc::Status TrainerService::GetRun(grpc::ServerContext*, const v1::GetRunRequest* request,
                                    v1::Run* response) {
  if (request->run_id().empty()) return Invalid("GetRunRequest.run_id is required");
  absl::StatusOr<v1::Run> run = runs_->Get(request->run_id());
  if (!run.ok()) return ToGrpcStatus(run.status());
  *response = *std::move(run);
  return grpc::Status::OK;
}

grpc::Status TrainerService::ListRuns(grpc::ServerContext*, const v1::ListRunsRequest* request,
                                      v1::ListRunsResponse* response) {
  absl::StatusOr<v1::ListRunsResponse> listed = runs_->List(*request);
  if (!listed.ok()) return ToGrpcStatus(listed.status());
  *response = *std::move(listed);
  return grpc::Status::OK;
}

grpc::Status TrainerService::CancelRun(grpc::ServerContext* context,
                                       const v1::CancelRunRequest* request, v1::Run* response) {
  if (request->run_id().empty()) return Invalid("CancelRunRequest.run_id is required");
  absl::StatusOr<v1::Run> run = runs_->Get(request->run_id());
  if (!run.ok()) return ToGrpcStatus(run.status());
  if (training::RunStore::IsFinal(run->state())) {  // Idempotent on ended runs.
    *response = *std::move(run);
    return grpc::Status::OK;
  }
  const std::string reason = absl::StrCat("cancelled by ", server::CallerOf(*context).subject(),
                                          request->reason().empty() ? "" : ": ", request->reason());
  {
    absl::MutexLock lock(&mu_);
    if (running_ == request->run_id()) {
      // The worker stops within one batch and records CANCELLED, unless it is registering.
      if (!cancel_.Cancel()) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            absl::StrCat("run '", request->run_id(),
                                         "' is registering its version: it can no longer be "
                                         "cancelled; archive the version if it is not wanted"));
      }
      *response = *run;
      return grpc::Status::OK;
    }
    queue_.erase(std::remove(queue_.begin(), queue_.end(), request->run_id()), queue_.end());
    queued_.Set(static_cast<double>(queue_.size()));
  }
  absl::StatusOr<v1::Run> cancelled =
      runs_->Transition(request->run_id(), v1::RUN_STATE_CANCELLED, reason);
  if (cancelled.ok()) {
    CountFinished(*cancelled);
  } else if (absl::IsFailedPrecondition(cancelled.status())) {
    cancelled = runs_->Get(request->run_id());  // It ended meanwhile: say how.
  }
  if (!cancelled.ok()) return ToGrpcStatus(cancelled.status());
  *response = *std::move(cancelled);
  return grpc::Status::OK;
}

grpc::Status TrainerService::WatchRun(grpc::ServerContext* context,
                                      const v1::WatchRunRequest* request,
                                      grpc::ServerWriter<v1::RunEvent>* writer) {
  if (request->run_id().empty()) return Invalid("WatchRunRequest.run_id is required");
  if (absl::Status found = runs_->Get(request->run_id()).status(); !found.ok()) {
    return ToGrpcStatus(found);
  }
  int64_t after = request->after_sequence();
  bool open = true, ended = false;
  while (open && !ended && !context->IsCancelled() && !interrupted_) {
    const absl::Status read =
        runs_->EventsAfter(request->run_id(), after, [&](const v1::RunEvent& e) {
          after = e.sequence();
          ended = e.has_final_run();
          open = writer->Write(e);
          return open && !ended;
        });
    if (!read.ok()) return ToGrpcStatus(read);
    if (!open || ended) break;
    // Resumed after a run's last event: nothing more will come.
    absl::StatusOr<v1::Run> now = runs_->Get(request->run_id());
    if (now.ok() && training::RunStore::IsFinal(now->state()) &&
        runs_->WaitForEventAfter(request->run_id(), after, absl::ZeroDuration()) <= after) {
      break;
    }
    runs_->WaitForEventAfter(request->run_id(), after, absl::Seconds(1));
  }
  if (interrupted_ && !ended) {
    return grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("the trainer is stopping: reconnect with after_sequence=", after));
  }
  return grpc::Status::OK;
}

}  // namespace fabrique::services
