// The trainer's adapter against a feature store that misbehaves, served on a loopback port: a
// training-set stream the store never answers is ended at once by a cancel or by the run's
// deadline, and so is the wait between retries of an unavailable store; at shutdown the run in
// progress fails saying the trainer stopped, while the queued runs stay queued and run after the
// next start, keeping their deadlines; the metrics count runs queued, running and finished.

#include "services/trainer/trainer_service.h"

#include <future>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/time_util.h"
#include "libs/client/health_client.h"
#include "libs/server/service_host.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace fabrique::services {
namespace {

// A feature store whose BuildTrainingSet never answers (it waits for the caller to go away), or
// answers UNAVAILABLE; it knows every feature.
class SilentFeatureStore final : public v1::FeatureStore::Service {
 public:
  explicit SilentFeatureStore(bool unavailable) : unavailable_(unavailable) {}

  grpc::Status GetFeatureGroup(grpc::ServerContext*, const v1::GetFeatureGroupRequest* request,
                               v1::FeatureGroup* response) override {
    response->mutable_spec()->set_name(request->name());
    response->mutable_spec()->add_features()->set_name("x");
    return grpc::Status::OK;
  }

  grpc::Status BuildTrainingSet(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BuildTrainingSetResponse, v1::BuildTrainingSetRequest>* stream)
      override {
    ++calls_;
    if (unavailable_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    v1::BuildTrainingSetRequest request;
    stream->Read(&request);
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (!context->IsCancelled() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away");
  }

  int calls() const { return calls_.load(); }

 private:
  const bool unavailable_;
  std::atomic<int> calls_{0};
};

struct FeatureServer {
  SilentFeatureStore service;
  std::unique_ptr<server::ServiceHost> host;

  explicit FeatureServer(bool unavailable = false) : service(unavailable) {
    server::ServiceHostOptions options;
    options.service_name = "features";
    options.listen_host = "127.0.0.1";
    host = *server::ServiceHost::Create(options);
    host->AddService(&service, v1::FeatureStore::service_full_name(), "a silent feature store");
    REQUIRE(host->Start().ok());
  }
  ~FeatureServer() { host->Shutdown(); }
  std::string target() const { return absl::StrCat("127.0.0.1:", host->port()); }
};

v1::RunSpec Spec() {
  v1::RunSpec spec;
  spec.set_model_name("m");
  spec.add_features()->set_group("g");
  spec.mutable_features(0)->set_feature("x");
  spec.mutable_label()->mutable_feature()->set_group("g");
  spec.mutable_label()->mutable_feature()->set_feature("x");
  return spec;
}

absl::StatusOr<v1::Dataset> Build(RemoteDatasets& datasets) {
  return datasets.Build(
      Spec(), "run-1", [](const v1::TrainingSetHeader&) { return absl::OkStatus(); },
      [](const v1::TrainingSetRows&) { return absl::OkStatus(); });
}

TEST_CASE("A cancel ends a training-set stream the feature store has not answered", "[trainer]") {
  FeatureServer features;
  RemoteDatasets datasets(client::MakeChannel(features.target()), absl::Seconds(60));
  training::CancelToken cancel;
  datasets.set_cancel(&cancel);
  auto built = std::async(std::launch::async, [&] { return Build(datasets); });
  while (features.service.calls() == 0) absl::SleepFor(absl::Milliseconds(5));
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time cancelled_at = absl::Now();
  REQUIRE(cancel.Cancel());
  REQUIRE(built.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const absl::StatusOr<v1::Dataset> result = built.get();
  CHECK(absl::Now() - cancelled_at < absl::Seconds(1));
  CHECK(absl::IsCancelled(result.status()));
  CHECK(features.service.calls() == 1);  // A cancelled stream is not retried.
}

TEST_CASE("The run's deadline ends the stream, and the wait between retries", "[trainer]") {
  SECTION("a stream not answered") {
    FeatureServer features;
    RemoteDatasets datasets(client::MakeChannel(features.target()), absl::Seconds(60));
    datasets.set_deadline(absl::Now() + absl::Milliseconds(500));
    const absl::Time start = absl::Now();
    const absl::StatusOr<v1::Dataset> result = Build(datasets);
    CHECK(absl::IsDeadlineExceeded(result.status()));
    CHECK(absl::Now() - start < absl::Seconds(3));
  }
  SECTION("a store answering UNAVAILABLE, then a cancel") {
    FeatureServer features(/*unavailable=*/true);
    RemoteDatasets datasets(client::MakeChannel(features.target()), absl::Seconds(60));
    training::CancelToken cancel;
    datasets.set_cancel(&cancel);
    auto built = std::async(std::launch::async, [&] { return Build(datasets); });
    while (features.service.calls() < 2) absl::SleepFor(absl::Milliseconds(5));
    // Into the 400 ms wait before the third attempt.
    absl::SleepFor(absl::Milliseconds(100));
    const absl::Time cancelled_at = absl::Now();
    REQUIRE(cancel.Cancel());
    REQUIRE(built.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    const absl::StatusOr<v1::Dataset> result = built.get();
    CHECK(absl::Now() - cancelled_at < absl::Milliseconds(500));
    CHECK(absl::IsUnavailable(result.status()));
    CHECK(features.service.calls() == 2);  // No attempt after the cancel.
  }
}

struct Trainer {
  FeatureServer features;
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<training::RunStore> runs;
  std::unique_ptr<RemoteDatasets> datasets;
  std::unique_ptr<RemoteModels> models;
  std::unique_ptr<TrainerService> service;
  std::unique_ptr<prometheus::Registry> metrics;

  Trainer() {
    kv::StoreOptions options;
    options.path = "/in-memory/trainer";
    options.in_memory = true;
    kv = *kv::Store::Open(options);
    datasets =
        std::make_unique<RemoteDatasets>(client::MakeChannel(features.target()), absl::Seconds(60));
    // Never reached: no run gets past its training set here.
    models = std::make_unique<RemoteModels>(client::MakeChannel("127.0.0.1:1"), absl::Seconds(1));
  }
  // Opens the runs as a start of the trainer does, and starts the service over them.
  void Start() {
    runs = *training::RunStore::Create({kv.get()});
    metrics = std::make_unique<prometheus::Registry>();
    service = std::make_unique<TrainerService>(runs.get(), datasets.get(), models.get(), *metrics);
  }
  void Stop() {
    service.reset();
    runs.reset();
  }
  std::string Metrics() const { return prometheus::TextSerializer().Serialize(metrics->Collect()); }
  v1::RunState StateOf(const std::string& id) { return runs->Get(id)->state(); }
  void AwaitState(const std::string& id, v1::RunState state) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (StateOf(id) != state && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
    REQUIRE(StateOf(id) == state);
  }
};

TEST_CASE("At shutdown the run in progress fails and the queued ones wait for the next start",
          "[trainer]") {
  Trainer trainer;
  trainer.runs = *training::RunStore::Create({trainer.kv.get()});
  v1::Run run;
  *run.mutable_spec() = Spec();
  const std::string first = trainer.runs->Submit(run)->run_id();
  // The second keeps the deadline it was given, through the restart.
  *run.mutable_deadline_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(absl::Now() + absl::Hours(1)));
  const std::string second = trainer.runs->Submit(run)->run_id();
  trainer.runs.reset();

  trainer.Start();
  trainer.AwaitState(first, v1::RUN_STATE_BUILDING_DATASET);
  CHECK(absl::StrContains(trainer.Metrics(), "fabrique_trainer_runs_queued 1"));
  CHECK(absl::StrContains(trainer.Metrics(), "fabrique_trainer_runs_running 1"));
  const absl::Time stop_at = absl::Now();
  trainer.Stop();
  // The stream the feature store never answered did not hold the shutdown.
  CHECK(absl::Now() - stop_at < absl::Seconds(2));

  trainer.Start();
  CHECK(absl::StrContains(trainer.Metrics(),
                          "fabrique_trainer_runs_finished_total{state=\"failed\"} 0"));
  const absl::StatusOr<v1::Run> failed = trainer.runs->Get(first);
  CHECK(failed->state() == v1::RUN_STATE_FAILED);
  CHECK(failed->failure_reason() ==
        "the trainer was stopped while building the training set: submit the run again");
  trainer.AwaitState(second, v1::RUN_STATE_BUILDING_DATASET);
  CHECK(trainer.runs->Get(second)->has_deadline_time());
  // A run that ends is counted, with the time it spent in each state.
  v1::Run third;
  *third.mutable_spec() = Spec();
  const std::string queued = trainer.runs->Submit(third)->run_id();
  trainer.Stop();
  trainer.Start();  // `second` was failed by the stop; `queued` now runs, and is cancelled.
  trainer.AwaitState(queued, v1::RUN_STATE_BUILDING_DATASET);
  grpc::ServerContext context;
  v1::CancelRunRequest cancel;
  cancel.set_run_id(queued);
  v1::Run answer;
  REQUIRE(trainer.service->CancelRun(&context, &cancel, &answer).ok());
  trainer.AwaitState(queued, v1::RUN_STATE_CANCELLED);
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!absl::StrContains(trainer.Metrics(), "runs_running 0") && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const std::string metrics = trainer.Metrics();
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_finished_total{state=\"cancelled\"} 1"));
  CHECK(absl::StrContains(metrics,
                          "fabrique_trainer_stage_seconds_total{stage=\"building_dataset\"}"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_queued 0"));
  trainer.Stop();
}

}  // namespace
}  // namespace fabrique::services
