// The tower's ports on the registry and the trainer, against fakes served on loopback:
// - the registry port moves an alias and sets a canary share for the job's submitter
//   (on-behalf-of), keeping the traffic policy's other settings, refuses a share outside
//   [0, 100] with INVALID_ARGUMENT, lists a use case's models with what production holds (0 when
//   nothing), and passes the registry's errors on with their codes;
// - the local executor's update from a run's record: states, reasons, the registered version,
//   the checkpoint, and request-based usage (wall time times what the job asked for).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/registry.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "libs/client/call_context.h"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "services/tower/local_trainer_executor.h"
#include "services/tower/registry_port.h"

namespace fabrique::services {
namespace {

using google::protobuf::util::TimeUtil;

// The registry calls the port makes, each answered from what the test set, with the
// on-behalf-of user each carried.
class FakeRegistry final : public v1::ModelRegistry::Service {
 public:
  grpc::Status SetAlias(grpc::ServerContext* context, const v1::SetAliasRequest* request,
                        v1::Alias* response) override {
    absl::MutexLock lock(&mu_);
    Record(context, "SetAlias");
    alias_set = *request;
    response->set_model(request->model());
    return alias_status;
  }
  grpc::Status RequestPromotion(grpc::ServerContext* context,
                                const v1::RequestPromotionRequest* request,
                                v1::PromotionRequest* response) override {
    absl::MutexLock lock(&mu_);
    Record(context, "RequestPromotion");
    promotion_asked = *request;
    response->set_id("p-1");
    response->set_model(request->model());
    response->set_alias(request->alias());
    response->set_version(request->version());
    response->set_state(v1::PROMOTION_STATE_PENDING);
    return promotion_status;
  }
  grpc::Status GetTrafficPolicy(grpc::ServerContext* context,
                                const v1::GetTrafficPolicyRequest* request,
                                v1::TrafficPolicy* response) override {
    absl::MutexLock lock(&mu_);
    Record(context, "GetTrafficPolicy");
    *response = policy;
    response->set_model(request->model());
    return grpc::Status::OK;
  }
  grpc::Status SetTrafficPolicy(grpc::ServerContext* context,
                                const v1::SetTrafficPolicyRequest* request,
                                v1::TrafficPolicy* response) override {
    absl::MutexLock lock(&mu_);
    Record(context, "SetTrafficPolicy");
    policy_set = request->policy();
    *response = request->policy();
    return grpc::Status::OK;
  }
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override {
    absl::MutexLock lock(&mu_);
    Record(context, "ListModels");
    // Two pages, and one model of another use case the filter should have left out.
    if (request->page_token().empty()) {
      response->add_models()->set_name("fraud");
      response->mutable_models(0)->set_use_case_id(request->use_case_id());
      response->set_next_page_token("2");
    } else {
      response->add_models()->set_name("churn");
      response->mutable_models(0)->set_use_case_id(request->use_case_id());
      response->add_models()->set_name("other");
      response->mutable_models(1)->set_use_case_id("uc-other");
    }
    return grpc::Status::OK;
  }
  grpc::Status GetAlias(grpc::ServerContext* context, const v1::GetAliasRequest* request,
                        v1::Alias* response) override {
    absl::MutexLock lock(&mu_);
    Record(context, "GetAlias");
    if (request->model() != "fraud" || request->alias() != "production") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such alias");
    }
    response->set_version(7);
    return grpc::Status::OK;
  }

  // Each call's on-behalf-of user ("" = none), by method, the last one.
  std::map<std::string, std::string> on_behalf ABSL_GUARDED_BY(mu_);
  v1::SetAliasRequest alias_set ABSL_GUARDED_BY(mu_);
  grpc::Status alias_status ABSL_GUARDED_BY(mu_);
  v1::RequestPromotionRequest promotion_asked ABSL_GUARDED_BY(mu_);
  grpc::Status promotion_status ABSL_GUARDED_BY(mu_);
  v1::TrafficPolicy policy ABSL_GUARDED_BY(mu_);
  v1::TrafficPolicy policy_set ABSL_GUARDED_BY(mu_);
  absl::Mutex mu_;

 private:
  void Record(grpc::ServerContext* context, const std::string& method)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto& metadata = context->client_metadata();
    auto found = metadata.find(client::kOnBehalfOfUserKey);
    on_behalf[method] =
        found == metadata.end() ? "" : std::string(found->second.data(), found->second.size());
  }
};

struct RegistryServer {
  FakeRegistry registry;
  std::unique_ptr<server::ServiceHost> host;

  RegistryServer() {
    server::ServiceHostOptions options;
    options.plaintext = true;
    options.service_name = "registry";
    options.listen_host = "127.0.0.1";
    options.metrics_port = -1;
    host = *server::ServiceHost::Create(options);
    host->AddService(&registry, v1::ModelRegistry::service_full_name(), "the registry");
    REQUIRE(host->Start().ok());
  }
  ~RegistryServer() { host->Shutdown(); }

  std::unique_ptr<RemoteRegistryPort> Port() const {
    const std::string address = absl::StrCat("127.0.0.1:", host->port());
    RemoteRegistryPortOptions options;
    options.registry = client::MakePlaintextChannel(address);
    options.registry_target = address;
    auto port = RemoteRegistryPort::Create(options);
    REQUIRE(port.ok());
    return *std::move(port);
  }
};

v1::Principal Dana() {
  v1::Principal dana;
  dana.set_subject("dana");
  dana.add_groups("risk:data-scientist");
  return dana;
}

TEST_CASE("the registry port moves the candidate alias for the submitter") {
  RegistryServer server;
  auto port = server.Port();
  REQUIRE(port->SetAlias("fraud", "candidate", 8, "retrained after drift", Dana()).ok());
  absl::MutexLock lock(&server.registry.mu_);
  CHECK(server.registry.alias_set.model() == "fraud");
  CHECK(server.registry.alias_set.alias() == "candidate");
  CHECK(server.registry.alias_set.version() == 8);
  CHECK(server.registry.alias_set.reason() == "retrained after drift");
  CHECK(server.registry.on_behalf["SetAlias"] == "dana");
}

TEST_CASE("the registry port passes the registry's refusal on with its code") {
  RegistryServer server;
  {
    absl::MutexLock lock(&server.registry.mu_);
    server.registry.alias_status =
        grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "gate auc >= 0.8 failed");
  }
  const absl::Status status = server.Port()->SetAlias("fraud", "candidate", 8, "", Dana());
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a monitor's service principal is no user: the tower acts as itself") {
  RegistryServer server;
  v1::Principal monitor;
  monitor.set_subject("service:monitor");
  REQUIRE(server.Port()->SetAlias("fraud", "candidate", 8, "", monitor).ok());
  absl::MutexLock lock(&server.registry.mu_);
  CHECK(server.registry.on_behalf["SetAlias"].empty());
}

TEST_CASE("the registry port asks for a promotion for the submitter, keyed so a retry finds it") {
  RegistryServer server;
  absl::StatusOr<v1::PromotionRequest> request =
      server.Port()->RequestPromotion("fraud", "production", 8, "retrained by job j-1", Dana());
  REQUIRE(request.ok());
  CHECK(request->id() == "p-1");
  CHECK(request->state() == v1::PROMOTION_STATE_PENDING);
  absl::MutexLock lock(&server.registry.mu_);
  const v1::RequestPromotionRequest& asked = server.registry.promotion_asked;
  CHECK(asked.model() == "fraud");
  CHECK(asked.alias() == "production");
  CHECK(asked.version() == 8);
  CHECK(asked.comment() == "retrained by job j-1");
  CHECK_FALSE(asked.dry_run());
  CHECK(asked.request_id() == "tower:promote:fraud@production=8");
  CHECK(server.registry.on_behalf["RequestPromotion"] == "dana");
}

TEST_CASE("a promotion a gate refuses comes back FAILED_PRECONDITION") {
  RegistryServer server;
  {
    absl::MutexLock lock(&server.registry.mu_);
    server.registry.promotion_status =
        grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "WORSE: candidate auc 0.7 vs 0.9");
  }
  absl::StatusOr<v1::PromotionRequest> request =
      server.Port()->RequestPromotion("fraud", "production", 8, "", Dana());
  CHECK(request.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(request.status().message().find("WORSE") != std::string::npos);
}

TEST_CASE("the registry port sets the canary share and keeps the policy's other settings") {
  RegistryServer server;
  {
    absl::MutexLock lock(&server.registry.mu_);
    server.registry.policy.set_primary_alias("champion");
    server.registry.policy.set_shadow(true);
    server.registry.policy.set_canary_routing(v1::CANARY_ROUTING_RANDOM);
    server.registry.policy.set_canary_percent(50);
    server.registry.policy.mutable_updated_by()->set_subject("erin");
  }
  auto port = server.Port();
  REQUIRE(port->SetCanary("fraud", "candidate", 10, Dana()).ok());
  absl::MutexLock lock(&server.registry.mu_);
  const v1::TrafficPolicy& set = server.registry.policy_set;
  CHECK(set.model() == "fraud");
  CHECK(set.candidate_alias() == "candidate");
  CHECK(set.canary_percent() == 10);
  CHECK(set.primary_alias() == "champion");
  CHECK(set.shadow());
  CHECK(set.canary_routing() == v1::CANARY_ROUTING_RANDOM);
  CHECK_FALSE(set.has_updated_by());  // Output only.
  CHECK(server.registry.on_behalf["GetTrafficPolicy"] == "dana");
  CHECK(server.registry.on_behalf["SetTrafficPolicy"] == "dana");
}

TEST_CASE("a canary share outside [0, 100] is refused before any call") {
  RegistryServer server;
  auto port = server.Port();
  CHECK(port->SetCanary("fraud", "candidate", 120, Dana()).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(port->SetCanary("fraud", "candidate", -1, Dana()).code() ==
        absl::StatusCode::kInvalidArgument);
  absl::MutexLock lock(&server.registry.mu_);
  CHECK(server.registry.on_behalf.empty());
}

TEST_CASE("a use case's models, every page, with the version in production") {
  RegistryServer server;
  absl::StatusOr<std::vector<v1::PortfolioModel>> models = server.Port()->ModelsOf("uc-fraud");
  REQUIRE(models.ok());
  REQUIRE(models->size() == 2);
  CHECK((*models)[0].model() == "fraud");
  CHECK((*models)[0].production_version() == 7);
  CHECK((*models)[1].model() == "churn");
  CHECK((*models)[1].production_version() == 0);  // No production alias.
  absl::MutexLock lock(&server.registry.mu_);
  CHECK(server.registry.on_behalf["ListModels"].empty());  // As the tower.
}

// ---- The local executor's updates ----

v1::Job JobAsking(double cores, int64_t memory_bytes, int gpus) {
  v1::Job job;
  job.set_id("job-1");
  job.mutable_spec()->mutable_resources()->set_cpu_cores(cores);
  job.mutable_spec()->mutable_resources()->set_memory_bytes(memory_bytes);
  job.mutable_spec()->mutable_resources()->set_gpus(gpus);
  return job;
}

v1::Run RunFrom(absl::Time start, v1::RunState state) {
  v1::Run run;
  run.set_run_id("run-1");
  run.set_state(state);
  *run.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(start));
  return run;
}

TEST_CASE("a run's record becomes the job's update, with request-based usage") {
  const absl::Time start = absl::FromUnixSeconds(1'700'000'000);
  SECTION("running: usage up to now, the checkpoint so far") {
    v1::Run run = RunFrom(start, v1::RUN_STATE_TRAINING);
    run.set_checkpoint_epoch(3);
    const tower::ExecutionUpdate update =
        LocalTrainerExecutor::UpdateOf(JobAsking(4, 2LL << 30, 1), run, start + absl::Seconds(10));
    CHECK(update.job_id == "job-1");
    CHECK(update.trainer_run_id == "run-1");
    CHECK(update.state == v1::JOB_STATE_RUNNING);
    CHECK(update.checkpoint_epoch == 3);
    CHECK(update.usage.cpu_seconds() == Approx(40));
    CHECK(update.usage.memory_gib_seconds() == Approx(20));
    CHECK(update.usage.gpu_seconds() == Approx(10));
  }
  SECTION("succeeded: the registered version, usage to the run's end; defaults 1 core, 1 GiB") {
    v1::Run run = RunFrom(start, v1::RUN_STATE_SUCCEEDED);
    *run.mutable_end_time() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(start + absl::Seconds(30)));
    run.mutable_registered_version()->set_model("fraud");
    run.mutable_registered_version()->set_version(8);
    const tower::ExecutionUpdate update =
        LocalTrainerExecutor::UpdateOf(JobAsking(0, 0, 0), run, start + absl::Hours(1));
    CHECK(update.state == v1::JOB_STATE_SUCCEEDED);
    CHECK(update.result_version.model() == "fraud");
    CHECK(update.result_version.version() == 8);
    CHECK(update.usage.cpu_seconds() == Approx(30));
    CHECK(update.usage.memory_gib_seconds() == Approx(30));
    CHECK(update.usage.gpu_seconds() == 0);
  }
  SECTION("failed and cancelled: the reason") {
    v1::Run failed = RunFrom(start, v1::RUN_STATE_FAILED);
    failed.set_failure_reason("diverged at epoch 4");
    CHECK(LocalTrainerExecutor::UpdateOf(JobAsking(1, 0, 0), failed, start).reason ==
          "diverged at epoch 4");
    v1::Run cancelled = RunFrom(start, v1::RUN_STATE_CANCELLED);
    v1::RunStateChange* change = cancelled.add_history();
    change->set_to_state(v1::RUN_STATE_CANCELLED);
    change->set_reason("cancelled by service:tower while training: preempted");
    cancelled.set_checkpoint_epoch(5);
    const tower::ExecutionUpdate update =
        LocalTrainerExecutor::UpdateOf(JobAsking(1, 0, 0), cancelled, start);
    CHECK(update.state == v1::JOB_STATE_CANCELLED);
    CHECK(update.reason == "cancelled by service:tower while training: preempted");
    CHECK(update.checkpoint_epoch == 5);
  }
  SECTION("never started (cancelled while queued): no usage") {
    v1::Run run;
    run.set_state(v1::RUN_STATE_CANCELLED);
    const tower::ExecutionUpdate update =
        LocalTrainerExecutor::UpdateOf(JobAsking(8, 0, 0), run, start);
    CHECK(update.usage.cpu_seconds() == 0);
  }
}

TEST_CASE("the local executor refuses what it cannot run") {
  CHECK(LocalTrainerExecutor::Create({}).status().code() == absl::StatusCode::kInvalidArgument);
  LocalTrainerExecutorOptions options;
  options.trainer = client::MakePlaintextChannel("127.0.0.1:1");
  auto executor = LocalTrainerExecutor::Create(options);
  REQUIRE(executor.ok());
  v1::Job not_training;
  not_training.set_id("job-9");
  CHECK((*executor)->Start(not_training, nullptr).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*executor)->Stop(not_training, "").code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fabrique::services
