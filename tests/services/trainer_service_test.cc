// The trainer's service side, served on loopback ports. The remote ports against a feature store
// that misbehaves: a training-set stream the store never answers is ended at once by a cancel or
// by the run's deadline, the waits between retries of an unavailable store run on the injected
// clock and end at a cancel or at the run's deadline, and unknown features are named. The trainer
// over them: at shutdown the run in progress fails saying the trainer stopped, while the queued
// runs stay queued and run after the next start, keeping their deadlines. The ports name the
// run's submitter as on-behalf-of to the feature store and the registry, and never assert an
// identity with x-fabrique-* headers. The adapter over fake ports: calls answer with the core's
// codes, the verified caller is recorded, and the metrics count runs queued, running and
// finished, the time per state and the samples trained. Who may do what: trainer_access_test.cc.
//
// Nothing sleeps to wait: the fakes say when a call is waiting, runs are awaited on their
// events, and the deadlines are generous.

#include "services/trainer/trainer_service.h"

#include <future>
#include <map>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/client_context.h"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/server/access.h"
#include "libs/server/service_host.h"
#include "libs/training/run_pipeline.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "services/trainer/remote_ports.h"
#include "services/trainer/trainer_metrics.h"
#include "tests/services/trainer_test_server.h"
#include "tests/training/fake_ports.h"

namespace fabrique::services {
namespace {

using trainer_test::Adapter;
using trainer_test::kDana;
using trainer_test::kPatience;
using training::testing::AwaitState;

// The fake feature stores know every group the trainer asks for, each with the one feature "x".
grpc::Status KnownGroup(const v1::GetFeatureGroupRequest& request, v1::FeatureGroup* group) {
  group->mutable_spec()->set_name(request.name());
  group->mutable_spec()->add_features()->set_name("x");
  return grpc::Status::OK;
}

// A feature store whose BuildTrainingSet never answers (it waits for the caller to go away), or
// answers UNAVAILABLE; it knows every group, each with the one feature "x".
class SilentFeatureStore final : public v1::FeatureStore::Service {
 public:
  explicit SilentFeatureStore(bool unavailable) : unavailable_(unavailable) {}

  grpc::Status GetFeatureGroup(grpc::ServerContext* context,
                               const v1::GetFeatureGroupRequest* request,
                               v1::FeatureGroup* response) override {
    {
      absl::MutexLock lock(&mu_);
      group_deadlines_.push_back(absl::FromChrono(context->deadline()));
    }
    return KnownGroup(*request, response);
  }

  grpc::Status BuildTrainingSet(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BuildTrainingSetResponse, v1::BuildTrainingSetRequest>* stream)
      override {
    if (unavailable_) {
      Arrive();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    v1::BuildTrainingSetRequest request;
    stream->Read(&request);
    Arrive();  // The caller now waits for an answer that does not come.
    // The fake server's own wait for its caller to leave (gRPC's sync API has no event for it).
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (!context->IsCancelled() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
    return grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away");
  }

  // Waits, at most `timeout`, until `count` training-set calls have arrived in all.
  bool AwaitCalls(int count, absl::Duration timeout = kPatience) {
    absl::MutexLock lock(&mu_);
    const auto arrived = [this, count]()
                             ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ >= count; };
    return mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // The deadline each GetFeatureGroup call arrived with.
  std::vector<absl::Time> group_deadlines() {
    absl::MutexLock lock(&mu_);
    return group_deadlines_;
  }

 private:
  void Arrive() {
    absl::MutexLock lock(&mu_);
    ++calls_;
  }

  const bool unavailable_;
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Time> group_deadlines_ ABSL_GUARDED_BY(mu_);
};

// Serves `service` on a loopback port until destroyed.
struct Served {
  std::unique_ptr<server::ServiceHost> host;

  Served(grpc::Service* service, const std::string& full_name) {
    host = *server::ServiceHost::Create(trainer_test::LoopbackHost("test"));
    host->AddService(service, full_name, "a test double");
    REQUIRE(host->Start().ok());
  }
  ~Served() { host->Shutdown(); }
  std::string target() const { return absl::StrCat("127.0.0.1:", host->port()); }
};

struct FeatureServer {
  SilentFeatureStore service;
  Served served;
  explicit FeatureServer(bool unavailable = false)
      : service(unavailable), served(&service, v1::FeatureStore::service_full_name()) {}
  std::unique_ptr<RemoteDatasets> Datasets(core::Clock* clock = nullptr) {
    return *RemoteDatasets::Create(
        {client::MakePlaintextChannel(served.target()), absl::Seconds(60), clock});
  }
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

training::RunContext RunOne(training::CancelToken* cancel = nullptr,
                            absl::Time deadline = absl::InfiniteFuture()) {
  training::RunContext context;
  context.run_id = "run-1";
  context.cancel = cancel;
  context.deadline = deadline;
  return context;
}

absl::StatusOr<v1::Dataset> Build(RemoteDatasets& datasets, const training::RunContext& context) {
  return datasets.Build(
      context, Spec(), [](const v1::TrainingSetHeader&) { return absl::OkStatus(); },
      [](const v1::TrainingSetRows&) { return absl::OkStatus(); });
}

template <typename T>
T Get(std::future<T>& pending) {
  REQUIRE(pending.wait_for(std::chrono::seconds(120)) == std::future_status::ready);
  return pending.get();
}

TEST_CASE("Remote ports need a channel", "[trainer]") {
  CHECK(RemoteDatasets::Create({}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(RemoteModels::Create({}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A cancel ends a training-set stream the feature store has not answered", "[trainer]") {
  FeatureServer features;
  std::unique_ptr<RemoteDatasets> datasets = features.Datasets();
  training::CancelToken cancel;
  auto built = std::async(std::launch::async, [&] { return Build(*datasets, RunOne(&cancel)); });
  REQUIRE(features.service.AwaitCalls(1));
  REQUIRE(cancel.Cancel());
  // Ended by the cancel: left alone, the store would hold it for a minute.
  const absl::StatusOr<v1::Dataset> result = Get(built);
  CHECK(absl::IsCancelled(result.status()));
  CHECK(features.service.calls() == 1);  // A cancelled stream is not retried.
}

TEST_CASE("The run's deadline ends a stream the feature store has not answered", "[trainer]") {
  FeatureServer features;
  std::unique_ptr<RemoteDatasets> datasets = features.Datasets();
  const absl::StatusOr<v1::Dataset> result =
      Build(*datasets, RunOne(nullptr, absl::Now() + absl::Milliseconds(500)));
  CHECK(absl::IsDeadlineExceeded(result.status()));
  CHECK(features.service.calls() == 1);  // No time is left for another attempt.
}

TEST_CASE("The waits between retries run on the clock and end at a cancel", "[trainer]") {
  FeatureServer features(/*unavailable=*/true);
  core::FakeClock clock;
  std::unique_ptr<RemoteDatasets> datasets = features.Datasets(&clock);
  training::CancelToken cancel;
  auto built = std::async(std::launch::async, [&] { return Build(*datasets, RunOne(&cancel)); });
  REQUIRE(clock.AwaitSleeps(1, kPatience));  // After the first attempt, 200 ms.
  CHECK(features.service.calls() == 1);
  clock.Advance(absl::Milliseconds(200));
  REQUIRE(clock.AwaitSleeps(2, kPatience));  // After the second, 400 ms.
  CHECK(features.service.calls() == 2);
  REQUIRE(cancel.Cancel());
  const absl::StatusOr<v1::Dataset> result = Get(built);
  CHECK(absl::IsUnavailable(result.status()));
  CHECK(features.service.calls() == 2);  // No attempt after the cancel.
}

TEST_CASE("Retries stop when the run's deadline leaves no time for the next", "[trainer]") {
  FeatureServer features(/*unavailable=*/true);
  core::FakeClock clock;
  std::unique_ptr<RemoteDatasets> datasets = features.Datasets(&clock);
  auto built = std::async(std::launch::async, [&] {
    return Build(*datasets, RunOne(nullptr, clock.Now() + absl::Seconds(1)));
  });
  // Attempts at 0 and 200 ms; the third, at 600 ms, would wait 800 ms more: past the deadline.
  REQUIRE(clock.AwaitSleeps(1, kPatience));
  clock.Advance(absl::Milliseconds(200));
  REQUIRE(clock.AwaitSleeps(2, kPatience));
  clock.Advance(absl::Milliseconds(400));
  const absl::StatusOr<v1::Dataset> result = Get(built);
  CHECK(absl::IsUnavailable(result.status()));
  CHECK(absl::StrContains(result.status().message(),
                          "BuildTrainingSet failed 3 times (retried for up to 1m, or until the "
                          "run's deadline); last: warming up"));
  CHECK(features.service.calls() == 3);
}

TEST_CASE("Each feature check ends within the caller's time", "[trainer]") {
  FeatureServer features;
  core::FakeClock clock;  // The caller's deadline is on it; gRPC's, on real time.
  std::unique_ptr<RemoteDatasets> datasets = features.Datasets(&clock);
  training::RunContext submission;
  submission.deadline = clock.Now() + absl::Seconds(2);
  v1::RunSpec spec = Spec();
  spec.mutable_label()->mutable_feature()->set_group("labels");  // Two groups: two calls.
  const absl::Time asked = absl::Now();
  REQUIRE(datasets->CheckFeatures(submission, spec).ok());
  const std::vector<absl::Time> deadlines = features.service.group_deadlines();
  REQUIRE(deadlines.size() == 2);
  // Each call had the two seconds the caller had left, not a fixed 30.
  for (const absl::Time deadline : deadlines) {
    CHECK(deadline > asked);
    CHECK(deadline <= absl::Now() + absl::Seconds(3));  // gRPC rounds a timeout up a little.
  }
  // Without a deadline, each call has its own 30 s.
  REQUIRE(datasets->CheckFeatures({}, Spec()).ok());
  CHECK(features.service.group_deadlines().back() > absl::Now() + absl::Seconds(20));
}

TEST_CASE("Features the feature store does not know are named", "[trainer]") {
  FeatureServer features;
  std::unique_ptr<RemoteDatasets> datasets = features.Datasets();
  CHECK(datasets->CheckFeatures({}, Spec()).ok());
  v1::RunSpec spec = Spec();
  spec.add_features()->set_group("g");
  spec.mutable_features(1)->set_feature("y");
  const absl::Status unknown = datasets->CheckFeatures({}, spec);
  CHECK(unknown.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(unknown.message(), "knows no feature g:y"));
}

// The metadata of each call a fake received, by method: who the trainer said it called for.
class MetadataLog {
 public:
  using Metadata = std::multimap<std::string, std::string>;
  void Record(const std::string& method, const grpc::ServerContext& context) {
    Metadata metadata;
    for (const auto& [key, value] : context.client_metadata()) {
      metadata.emplace(std::string(key.data(), key.size()),
                       std::string(value.data(), value.size()));
    }
    absl::MutexLock lock(&mu_);
    calls_.emplace_back(method, std::move(metadata));
  }
  std::vector<std::pair<std::string, Metadata>> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<std::string, Metadata>> calls_ ABSL_GUARDED_BY(mu_);
};

// A feature store and a registry that answer every call the trainer's ports make, and log it.
class RecordingFeatureStore final : public v1::FeatureStore::Service {
 public:
  MetadataLog log;
  grpc::Status GetFeatureGroup(grpc::ServerContext* context,
                               const v1::GetFeatureGroupRequest* request,
                               v1::FeatureGroup* response) override {
    log.Record("GetFeatureGroup", *context);
    return KnownGroup(*request, response);
  }
  grpc::Status BuildTrainingSet(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BuildTrainingSetResponse, v1::BuildTrainingSetRequest>* stream)
      override {
    log.Record("BuildTrainingSet", *context);
    v1::BuildTrainingSetRequest request;
    stream->Read(&request);
    v1::BuildTrainingSetResponse summary;
    summary.mutable_summary()->set_dataset_id("ds-1");
    stream->Write(summary);
    return grpc::Status::OK;
  }
  grpc::Status RecordDatasetUsage(grpc::ServerContext* context,
                                  const v1::RecordDatasetUsageRequest*,
                                  v1::RecordDatasetUsageResponse*) override {
    log.Record("RecordDatasetUsage", *context);
    return grpc::Status::OK;
  }
};

class RecordingRegistry final : public v1::ModelRegistry::Service {
 public:
  MetadataLog log;
  grpc::Status CreateModel(grpc::ServerContext* context, const v1::CreateModelRequest* request,
                           v1::Model* model) override {
    log.Record("CreateModel", *context);
    absl::MutexLock lock(&mu_);
    created_ = request->model();
    *model = request->model();
    return grpc::Status::OK;
  }
  grpc::Status UploadArtifact(grpc::ServerContext* context,
                              grpc::ServerReader<v1::UploadArtifactRequest>* reader,
                              v1::Artifact* artifact) override {
    log.Record("UploadArtifact", *context);
    v1::UploadArtifactRequest part;
    while (reader->Read(&part)) {
    }
    artifact->set_sha256("sha");
    return grpc::Status::OK;
  }
  grpc::Status RegisterVersion(grpc::ServerContext* context,
                               const v1::RegisterVersionRequest* request,
                               v1::ModelVersion* version) override {
    log.Record("RegisterVersion", *context);
    *version = request->version();
    version->set_version(1);
    return grpc::Status::OK;
  }
  v1::Model created() {
    absl::MutexLock lock(&mu_);
    return created_;
  }

 private:
  absl::Mutex mu_;
  v1::Model created_ ABSL_GUARDED_BY(mu_);
};

// Whether `metadata` names `user` with `groups` as the one the call is made for, and nothing
// of the x-fabrique-* headers callers once asserted themselves with.
bool ForUser(const MetadataLog::Metadata& metadata, const std::string& user,
             const std::string& groups) {
  for (const auto& [key, value] : metadata) {
    if (absl::StartsWith(key, "x-fabrique-")) return false;
  }
  const auto named = metadata.find(server::kOnBehalfOfUser);
  const auto grouped = metadata.find(server::kOnBehalfOfGroups);
  return named != metadata.end() && named->second == user && grouped != metadata.end() &&
         grouped->second == groups;
}

// Whether the call names no one: the trainer acting as itself.
bool ForItself(const MetadataLog::Metadata& metadata) {
  for (const auto& [key, value] : metadata) {
    if (absl::StartsWith(key, "x-fabrique-") || absl::StartsWith(key, "fabrique-on-behalf-of")) {
      return false;
    }
  }
  return true;
}

TEST_CASE("A run's calls carry its submitter as on-behalf-of, and no asserted identity",
          "[trainer]") {
  RecordingFeatureStore features_service;
  Served features(&features_service, v1::FeatureStore::service_full_name());
  RecordingRegistry registry_service;
  Served registry(&registry_service, v1::ModelRegistry::service_full_name());
  std::unique_ptr<RemoteDatasets> datasets =
      *RemoteDatasets::Create({client::MakePlaintextChannel(features.target())});
  std::unique_ptr<RemoteModels> models =
      *RemoteModels::Create({client::MakePlaintextChannel(registry.target())});

  training::RunContext run = RunOne();
  run.caller.set_subject("dana");
  run.caller.set_squad("risk");
  run.caller.add_roles("data-scientist");
  run.caller.add_groups("risk:data-scientist");
  run.caller.add_groups("payments:product-owner");
  run.squad = "risk";
  REQUIRE(datasets->CheckFeatures(run, Spec()).ok());
  REQUIRE(Build(*datasets, run).ok());
  v1::ModelVersionRef ref;
  ref.set_model("m");
  ref.set_version(1);
  REQUIRE(datasets->RecordUsage(run, "ds-1", ref).ok());
  training::ArtifactToUpload card{"card", v1::ARTIFACT_KIND_MODEL_CARD, "text/markdown", "# m"};
  REQUIRE(models->Register(run, Spec(), {card}, v1::ModelVersion(), "run-1").ok());

  const std::string groups = "risk:data-scientist,payments:product-owner";
  const auto feature_calls = features_service.log.calls();
  REQUIRE(feature_calls.size() == 3);
  CHECK(feature_calls[0].first == "GetFeatureGroup");
  CHECK(ForUser(feature_calls[0].second, "dana", groups));
  CHECK(feature_calls[1].first == "BuildTrainingSet");
  CHECK(ForUser(feature_calls[1].second, "dana", groups));
  // Lineage is the trainer's own word: the user holds no datasets.record_usage.
  CHECK(feature_calls[2].first == "RecordDatasetUsage");
  CHECK(ForItself(feature_calls[2].second));
  const auto registry_calls = registry_service.log.calls();
  REQUIRE(registry_calls.size() == 3);
  for (const auto& [method, metadata] : registry_calls) {
    INFO(method);
    CHECK(ForUser(metadata, "dana", groups));
  }
  // The model the run creates belongs to the squad it trains for.
  CHECK(registry_service.created().owner_squad() == "risk");

  // A run a service submitted on its own account is made by the trainer as itself: a service is
  // no user to act for.
  training::RunContext by_tower = RunOne();
  by_tower.caller.set_subject("service:tower");
  by_tower.squad = "risk";
  REQUIRE(datasets->CheckFeatures(by_tower, Spec()).ok());
  CHECK(ForItself(features_service.log.calls().back().second));
}

// A registry that answers CreateModel UNAVAILABLE once, after moving `clock` past the deadline
// of the run asking (as a slow restart of the registry would), then registers what it is given.
class FlakyRegistry final : public v1::ModelRegistry::Service {
 public:
  FlakyRegistry(core::FakeClock* clock, absl::Duration delay) : clock_(clock), delay_(delay) {}

  grpc::Status CreateModel(grpc::ServerContext*, const v1::CreateModelRequest* request,
                           v1::Model* model) override {
    absl::MutexLock lock(&mu_);
    if (creates_++ == 0) {
      clock_->Advance(delay_);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    }
    *model = request->model();
    return grpc::Status::OK;
  }
  grpc::Status UploadArtifact(grpc::ServerContext*,
                              grpc::ServerReader<v1::UploadArtifactRequest>* reader,
                              v1::Artifact* artifact) override {
    v1::UploadArtifactRequest part;
    int64_t bytes = 0;
    while (reader->Read(&part)) bytes += static_cast<int64_t>(part.chunk().size());
    artifact->set_sha256(absl::StrCat("sha-", bytes));
    artifact->set_size_bytes(bytes);
    return grpc::Status::OK;
  }
  grpc::Status RegisterVersion(grpc::ServerContext*, const v1::RegisterVersionRequest* request,
                               v1::ModelVersion* version) override {
    absl::MutexLock lock(&mu_);
    *version = request->version();
    version->set_version(++versions_);
    return grpc::Status::OK;
  }

  int creates() {
    absl::MutexLock lock(&mu_);
    return creates_;
  }
  int versions() {
    absl::MutexLock lock(&mu_);
    return versions_;
  }

 private:
  core::FakeClock* const clock_;
  const absl::Duration delay_;
  absl::Mutex mu_;
  int creates_ ABSL_GUARDED_BY(mu_) = 0;
  int versions_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_CASE("Past the point of no return the run's deadline no longer fails its registration",
          "[trainer]") {
  core::FakeClock clock;
  // Down for two seconds, past the run's one-second deadline but well within the retry window.
  FlakyRegistry registry_service(&clock, absl::Seconds(2));
  Served registry(&registry_service, v1::ModelRegistry::service_full_name());
  std::unique_ptr<RemoteModels> models = *RemoteModels::Create(
      {client::MakePlaintextChannel(registry.target()), absl::Seconds(60), &clock});
  training::testing::FakeTrainerParts parts("/in-memory/registration");
  std::unique_ptr<training::RunPipeline> pipeline =
      *training::RunPipeline::Create({parts.runs.get(), &parts.datasets, models.get(), &clock});
  v1::Run queued;
  *queued.mutable_spec() = training::testing::TrainableSpec();
  *queued.mutable_deadline_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(clock.Now() + absl::Seconds(1)));
  const std::string id = parts.runs->Submit(queued)->run_id();
  auto running = std::async(std::launch::async, [&] { return pipeline->Execute(id); });
  // The registry's UNAVAILABLE is retried after 200 ms on the clock (the run ends at once
  // instead if the deadline still bounds the call).
  const absl::Time give_up = absl::Now() + kPatience;
  while (!clock.AwaitSleeps(1, absl::Milliseconds(10)) &&
         running.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         absl::Now() < give_up) {
  }
  clock.Advance(absl::Milliseconds(200));
  const absl::StatusOr<v1::Run> run = Get(running);
  REQUIRE(run.ok());
  INFO(run->failure_reason());
  CHECK(run->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(run->registered_version().version() == 1);
  CHECK(registry_service.creates() == 2);
  CHECK(registry_service.versions() == 1);
}

std::string Scrape(prometheus::Registry& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.Collect());
}

// The trainer over the real remote ports and the silent feature store, restartable.
struct Trainer {
  FeatureServer features;
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<training::RunStore> runs;
  std::unique_ptr<RemoteDatasets> datasets;
  std::unique_ptr<RemoteModels> models;
  std::unique_ptr<prometheus::Registry> registry;
  std::unique_ptr<TrainerMetrics> metrics;
  std::unique_ptr<training::RunQueue> queue;

  Trainer() {
    kv = training::testing::InMemoryKv("/in-memory/trainer");
    datasets = features.Datasets();
    // Never reached: no run gets past its training set here.
    models = *RemoteModels::Create({client::MakePlaintextChannel("127.0.0.1:1"), absl::Seconds(1)});
  }
  // Opens the runs as a start of the trainer does, and starts the core over them.
  void Start() {
    runs = *training::RunStore::Create({kv.get()});
    registry = std::make_unique<prometheus::Registry>();
    metrics = std::make_unique<TrainerMetrics>(*registry);
    queue = *training::RunQueue::Create({runs.get(), datasets.get(), models.get(), metrics.get()});
    queue->Start();
  }
  void Stop() {
    queue.reset();
    runs.reset();
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
  REQUIRE(AwaitState(*trainer.runs, first, v1::RUN_STATE_BUILDING_DATASET));
  REQUIRE(trainer.features.service.AwaitCalls(1));
  CHECK(absl::StrContains(Scrape(*trainer.registry), "fabrique_trainer_runs_queued 1"));
  CHECK(absl::StrContains(Scrape(*trainer.registry), "fabrique_trainer_runs_running 1"));
  const absl::Time stop_at = absl::Now();
  trainer.Stop();
  // The stream the feature store never answered did not hold the shutdown (it would a minute).
  CHECK(absl::Now() - stop_at < absl::Seconds(30));
  // The failed run was counted before the trainer went, on the metrics it had then.
  const std::string before_restart = Scrape(*trainer.registry);
  CHECK(absl::StrContains(before_restart,
                          "fabrique_trainer_runs_finished_total{state=\"failed\"} 1"));
  CHECK(absl::StrContains(before_restart, "fabrique_trainer_runs_running 0"));

  trainer.Start();
  const absl::StatusOr<v1::Run> failed = trainer.runs->Get(first);
  CHECK(failed->state() == v1::RUN_STATE_FAILED);
  CHECK(failed->failure_reason() ==
        "the trainer was stopped while building the training set: submit the run again");
  REQUIRE(AwaitState(*trainer.runs, second, v1::RUN_STATE_BUILDING_DATASET));
  CHECK(trainer.runs->Get(second)->has_deadline_time());
  trainer.Stop();
}

TEST_CASE("The adapter answers with the core's codes and the metrics count every run",
          "[trainer]") {
  Adapter a;
  v1::Run run;
  v1::RunSpec unnamed = training::testing::TrainableSpec();
  unnamed.clear_model_name();
  CHECK(a.Submit(unnamed, &run).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetRunRequest get;
  CHECK(a.stub->GetRun(a.Dana().get(), get, &run).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  get.set_run_id("no-such-run");
  CHECK(a.stub->GetRun(a.Dana().get(), get, &run).error_code() == grpc::StatusCode::NOT_FOUND);

  // A run to its end, watched; the verified caller and the call's remaining time reached the
  // core.
  REQUIRE(a.Submit(training::testing::TrainableSpec(), &run).ok());
  CHECK(run.state() == v1::RUN_STATE_QUEUED);
  CHECK(run.squad() == "risk");
  CHECK(run.submitted_by().subject() == "dana");
  CHECK(run.submitted_by().squad() == "risk");
  CHECK(std::vector<std::string>(run.submitted_by().roles().begin(),
                                 run.submitted_by().roles().end()) ==
        std::vector<std::string>{"data-scientist"});
  CHECK(std::vector<std::string>(run.submitted_by().groups().begin(),
                                 run.submitted_by().groups().end()) == kDana);
  CHECK(run.submitted_by().service().empty());
  CHECK(a.datasets.contexts().front().deadline < absl::InfiniteFuture());
  CHECK(a.datasets.contexts().front().caller.subject() == "dana");
  v1::WatchRunRequest watch;
  watch.set_run_id(run.run_id());
  std::unique_ptr<grpc::ClientContext> watching = a.Dana();
  auto reader = a.stub->WatchRun(watching.get(), watch);
  v1::RunEvent event, last;
  while (reader->Read(&event)) last = event;
  REQUIRE(reader->Finish().ok());
  CHECK(last.final_run().state() == v1::RUN_STATE_SUCCEEDED);
  REQUIRE(a.queue->AwaitIdle(kPatience));

  // A cancel while the next run registers is refused; that run completes.
  a.models.gate.Close();
  v1::Run registering;
  REQUIRE(a.Submit(training::testing::TrainableSpec(), &registering).ok());
  REQUIRE(a.models.gate.AwaitArrivals(2));
  v1::CancelRunRequest cancel;
  cancel.set_run_id(registering.run_id());
  v1::Run answer;
  const grpc::Status refused = a.stub->CancelRun(a.Dana().get(), cancel, &answer);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(), "registering its version"));
  a.models.gate.Open();
  REQUIRE(a.queue->AwaitIdle(kPatience));
  v1::ListRunsRequest list;
  v1::ListRunsResponse listed;
  REQUIRE(a.stub->ListRuns(a.Dana().get(), list, &listed).ok());
  REQUIRE(listed.runs_size() == 2);
  for (const v1::Run& r : listed.runs()) CHECK(r.state() == v1::RUN_STATE_SUCCEEDED);

  // Two runs of 1,600 training rows and five epochs each.
  const std::string metrics = Scrape(a.host->metrics());
  INFO(metrics);
  CHECK(absl::StrContains(metrics, "fabrique_trainer_samples_trained_total 16000"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_finished_total{state=\"succeeded\"} 2"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_finished_total{state=\"failed\"} 0"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_stage_seconds_total{stage=\"training\"}"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_queued 0"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_running 0"));
}

TEST_CASE("A cancelled queued run is counted with the time it waited", "[trainer]") {
  Adapter a;
  a.datasets.gate.Close();
  v1::Run running, waiting;
  REQUIRE(a.Submit(training::testing::TrainableSpec(), &running).ok());
  REQUIRE(a.Submit(training::testing::TrainableSpec(), &waiting).ok());
  REQUIRE(a.datasets.gate.AwaitArrivals(1));
  v1::CancelRunRequest cancel;
  cancel.set_run_id(waiting.run_id());
  cancel.set_reason("duplicate");
  v1::Run answer;
  REQUIRE(a.stub->CancelRun(a.Dana().get(), cancel, &answer).ok());
  CHECK(answer.state() == v1::RUN_STATE_CANCELLED);
  CHECK(answer.history().rbegin()->reason() == "cancelled by dana: duplicate");
  const std::string metrics = Scrape(a.host->metrics());
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_finished_total{state=\"cancelled\"} 1"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_stage_seconds_total{stage=\"queued\"}"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_samples_trained_total 0"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_queued 0"));
  CHECK(absl::StrContains(metrics, "fabrique_trainer_runs_running 1"));
  a.datasets.gate.Open();
}

}  // namespace
}  // namespace fabrique::services
