// The retrain trigger against fake Tower, registry and trainer gRPC servers on loopback: a
// trigger sends SubmitJob with the spec of the run that trained the version, moved to end now;
// the tower down (answering UNAVAILABLE, or not listening at all) then up: the request is kept,
// retried with backoff under one idempotency key, and accepted once.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/registry.grpc.pb.h"
#include "fabrique/v1/tower.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "services/monitor/tower_retrain_port.h"
#include "tests/monitoring/alerts/alerts_test_util.h"

namespace fabrique::services {
namespace {

using monitoring::alerts_test::kStart;

class FakeTowerService final : public v1::Tower::Service {
 public:
  grpc::Status SubmitJob(grpc::ServerContext*, const v1::SubmitJobRequest* request,
                         v1::Job* job) override {
    absl::MutexLock lock(&mu_);
    received_.push_back(*request);
    if (down_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the tower is restarting");
    job->set_id(absl::StrCat("job-", request->request_id()));
    job->set_squad(request->squad());
    *job->mutable_spec() = request->spec();
    job->set_state(v1::JOB_STATE_QUEUED);
    return grpc::Status::OK;
  }
  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  std::vector<v1::SubmitJobRequest> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  absl::Mutex mu_;
  bool down_ = false;
  std::vector<v1::SubmitJobRequest> received_;
};

// The registry's model "fraud" (squad risk, use case uc-fraud) whose version 4 run r-4 trained.
class FakeRegistryService final : public v1::ModelRegistry::Service {
 public:
  grpc::Status GetModel(grpc::ServerContext*, const v1::GetModelRequest* request,
                        v1::Model* model) override {
    if (request->name() != "fraud") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no model");
    model->set_name("fraud");
    model->set_owner_squad("risk");
    model->set_use_case_id("uc-fraud");
    return grpc::Status::OK;
  }
  grpc::Status GetVersion(grpc::ServerContext*, const v1::GetVersionRequest* request,
                          v1::ModelVersion* version) override {
    version->set_model(request->ref().model());
    version->set_version(request->ref().version());
    version->mutable_lineage()->set_trainer_run_id(absl::StrCat("r-", request->ref().version()));
    return grpc::Status::OK;
  }
};

// Run r-N trained on label events of the 30 days before kStart, 12 epochs.
class FakeTrainerService final : public v1::Trainer::Service {
 public:
  grpc::Status GetRun(grpc::ServerContext*, const v1::GetRunRequest* request,
                      v1::Run* run) override {
    run->set_run_id(request->run_id());
    v1::RunSpec* spec = run->mutable_spec();
    spec->set_model_name("fraud");
    spec->set_epochs(12);
    *spec->mutable_time_range()->mutable_start_time() =
        monitoring::ToProtoTime(kStart - absl::Hours(24 * 30));
    *spec->mutable_time_range()->mutable_end_time() = monitoring::ToProtoTime(kStart);
    return grpc::Status::OK;
  }
};

std::unique_ptr<server::ServiceHost> Serve(grpc::Service* service, const std::string& name) {
  server::ServiceHostOptions options;
  options.plaintext = true;
  options.service_name = "fake";
  options.listen_host = "127.0.0.1";
  options.metrics_port = -1;
  std::unique_ptr<server::ServiceHost> host = *server::ServiceHost::Create(options);
  host->AddService(service, name, "a fake");
  REQUIRE(host->Start().ok());
  return host;
}

template <typename Client>
Client ClientOf(const server::ServiceHost& host, const std::string& service) {
  const std::string address = absl::StrCat("127.0.0.1:", host.port());
  client::CallContext call;
  call.timeout = absl::Seconds(5);
  return Client(client::MakePlaintextChannel(address), {service, address}, call);
}

// The trigger with its real gRPC ports, over the alerts harness's storage.
struct TriggerOverGrpc {
  monitoring::alerts_test::AlertsHarness h;
  FakeTowerService tower_service;
  FakeRegistryService registry_service;
  FakeTrainerService trainer_service;
  std::unique_ptr<server::ServiceHost> tower_host =
      Serve(&tower_service, v1::Tower::service_full_name());
  std::unique_ptr<server::ServiceHost> registry_host =
      Serve(&registry_service, v1::ModelRegistry::service_full_name());
  std::unique_ptr<server::ServiceHost> trainer_host =
      Serve(&trainer_service, v1::Trainer::service_full_name());
  std::unique_ptr<TowerJobPort> tower;
  std::unique_ptr<RunSpecOrigins> origins;
  std::unique_ptr<monitoring::RetrainTrigger> trigger;

  TriggerOverGrpc() {
    tower = std::make_unique<TowerJobPort>(ClientOf<client::TowerClient>(*tower_host, "tower"));
    origins = std::make_unique<RunSpecOrigins>(
        ClientOf<client::RegistryClient>(*registry_host, "registry"),
        ClientOf<client::TrainerClient>(*trainer_host, "trainer"));
    monitoring::RetrainTriggerOptions options;
    options.store = h.store.get();
    options.alerts = h.alerts.get();
    options.tower = tower.get();
    options.origins = origins.get();
    options.clock = &h.clock;
    trigger = *monitoring::RetrainTrigger::Create(options);
  }
  ~TriggerOverGrpc() {
    tower_host->Shutdown();
    registry_host->Shutdown();
    trainer_host->Shutdown();
  }
};

v1::MonitoringPolicy RetrainAfterOne() {
  v1::MonitoringPolicy policy;
  policy.set_model("fraud");
  policy.mutable_retrain()->set_enabled(true);
  policy.mutable_retrain()->set_consecutive_windows(1);
  return policy;
}

monitoring::RetrainSignal Drifted(const std::string& alert_id) {
  monitoring::RetrainSignal signal;
  signal.model = "fraud";
  signal.version = 4;
  signal.drift_judged = true;
  signal.drifted = true;
  signal.alert_id = alert_id;
  return signal;
}

std::string RaiseAlert(monitoring::alerts_test::AlertsHarness& h) {
  monitoring::AlertFinding finding;
  finding.condition = {"fraud", 4, v1::ALERT_KIND_FEATURE_DRIFT, "amount"};
  finding.severity = v1::SEVERITY_CRITICAL;
  return h.alerts->Raise(finding)->id();
}

TEST_CASE("A trigger sends SubmitJob with the version's run spec, moved to end now",
          "[monitor][retrain][tower]") {
  TriggerOverGrpc t;

  const std::string alert_id = RaiseAlert(t.h);
  t.h.clock.Advance(absl::Hours(48));
  absl::StatusOr<monitoring::RetrainOutcome> outcome =
      t.trigger->Observe(RetrainAfterOne(), Drifted(alert_id));
  REQUIRE(outcome.ok());
  INFO(outcome->failure);
  REQUIRE(outcome->job.has_value());
  const std::vector<v1::SubmitJobRequest> received = t.tower_service.received();
  REQUIRE(received.size() == 1);
  const v1::SubmitJobRequest& sent = received[0];
  CHECK(sent.squad() == "risk");
  CHECK(sent.use_case_id() == "uc-fraud");
  CHECK(sent.trigger() == v1::JOB_TRIGGER_MONITOR);
  CHECK(sent.reason().find(alert_id) != std::string::npos);
  const v1::RunSpec& spec = sent.spec().training();
  CHECK(spec.model_name() == "fraud");
  CHECK(spec.epochs() == 12);
  CHECK(spec.parent_version() == 4);
  CHECK(monitoring::FromProtoTime(spec.time_range().end_time()) == t.h.clock.Now());
  CHECK(monitoring::FromProtoTime(spec.time_range().start_time()) ==
        t.h.clock.Now() - absl::Hours(24 * 30));
  CHECK(t.h.alerts->Get(alert_id)->retrain_job_id() == outcome->job->id());
}

TEST_CASE("The tower down then up: kept, retried with backoff, accepted once",
          "[monitor][retrain][tower]") {
  TriggerOverGrpc t;

  const std::string alert_id = RaiseAlert(t.h);
  t.tower_service.SetDown(true);
  absl::StatusOr<monitoring::RetrainOutcome> outcome =
      t.trigger->Observe(RetrainAfterOne(), Drifted(alert_id));
  REQUIRE(outcome.ok());
  CHECK(outcome->requested);
  CHECK_FALSE(outcome->job.has_value());
  CHECK(outcome->failure.empty());  // Kept, not given up.
  // Backoff: 5 s after the first failure, then 10 s.
  t.h.clock.Advance(absl::Seconds(4));
  CHECK(t.trigger->RetryPending()->empty());
  CHECK(t.tower_service.received().size() == 1);
  t.h.clock.Advance(absl::Seconds(1));
  CHECK(t.trigger->RetryPending()->empty());
  CHECK(t.tower_service.received().size() == 2);
  t.h.clock.Advance(absl::Seconds(9));
  CHECK(t.trigger->RetryPending()->empty());
  CHECK(t.tower_service.received().size() == 2);

  t.tower_service.SetDown(false);
  t.h.clock.Advance(absl::Seconds(1));
  std::vector<v1::Job> accepted = *t.trigger->RetryPending();
  REQUIRE(accepted.size() == 1);
  const std::vector<v1::SubmitJobRequest> received = t.tower_service.received();
  REQUIRE(received.size() == 3);
  for (const v1::SubmitJobRequest& sent : received) {
    CHECK(sent.request_id() == received[0].request_id());
  }
  CHECK(t.h.alerts->Get(alert_id)->retrain_job_id() == accepted[0].id());
  CHECK(t.trigger->RetryPending()->empty());
  CHECK(t.tower_service.received().size() == 3);
}

TEST_CASE("A tower that is not listening is UNAVAILABLE, so the request is kept",
          "[monitor][retrain][tower]") {
  // Port 1 on loopback: nothing listens there.
  client::CallContext call;
  call.timeout = absl::Seconds(2);
  TowerJobPort port(client::TowerClient(client::MakePlaintextChannel("127.0.0.1:1"),
                                        {"tower", "127.0.0.1:1"}, call));
  v1::SubmitJobRequest request;
  request.set_request_id("r1");
  absl::StatusOr<v1::Job> job = port.SubmitJob(request);
  REQUIRE_FALSE(job.ok());
  CHECK((absl::IsUnavailable(job.status()) || absl::IsDeadlineExceeded(job.status())));
}

}  // namespace
}  // namespace fabrique::services
