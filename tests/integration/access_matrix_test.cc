// Who may call what, through the real fabrique-features, fabrique-registry and fabrique-trainer
// binaries as a deployment runs them: TLS, tokens of a local authority, the default policy. For
// every method of the three services, a caller whose role lacks the method's permission is
// refused with PERMISSION_DENIED naming it, a caller whose role holds it is let through (its
// answer may be any code but a denial or UNAUTHENTICATED), and a call with no token is
// UNAUTHENTICATED. The feature store's and the registry's cases (requests and role pairs) are
// the ones the services' in-process access tests run (tests/util/access_requests.h); the
// permission each refusal must name is the one the method table gives.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "libs/auth/method_table.h"
#include "tests/integration/killable_service.h"
#include "tests/integration/secure_service.h"
#include "tests/util/access_requests.h"
#include "tests/util/test_util.h"

namespace fabrique {
namespace {

using testing::AccessCase;
using testing::FirstMessage;
using testing::Groups;
using testing::KillableService;
using testing::LocalIdentity;
using testing::TempDir;
using testing::Unary;

// Every call is bounded, so a server that never answers fails the test instead of hanging it.
constexpr absl::Duration kCallTimeout = absl::Seconds(5);

std::unique_ptr<grpc::ClientContext> As(const std::string& user, const Groups& groups) {
  return testing::TokenContext(LocalIdentity(), user, groups, kCallTimeout);
}

// "root" is the platform admin of the test identity's policy.
std::unique_ptr<grpc::ClientContext> Admin() { return As("root", {}); }

std::unique_ptr<grpc::ClientContext> NoToken() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  return context;
}

// The binaries' cases run as the in-process tests run them, but an allowed caller may be answered
// anything but a denial: the matrix checks who gets through, not what the seeded state allows.
template <typename Stub>
void CheckMatrix(const auth::MethodTable& table, Stub& stub,
                 const std::vector<AccessCase<Stub>>& cases) {
  testing::CheckAccessCases(stub, cases, table, As, testing::Allowed::kNotRefused);
}

// Every case called with no token is UNAUTHENTICATED.
template <typename Stub>
void CheckNoToken(Stub& stub, const std::vector<AccessCase<Stub>>& cases) {
  for (const AccessCase<Stub>& c : cases) {
    INFO(c.method << " with no token");
    const grpc::Status status = c.call(stub, NoToken().get());
    INFO(status.error_code() << ": " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
}

// ---- Feature store ----

// One row of tx:amount for c1, an hour ago.
v1::IngestRequest TxBatch() {
  v1::IngestRequest request;
  request.set_group("tx");
  v1::RowBatch* batch = request.mutable_rows();
  batch->add_entity_keys("c1");
  batch->add_event_time_unix_micros(absl::ToUnixMicros(absl::Now() - absl::Hours(1)));
  v1::FeatureColumn* amount = batch->add_columns();
  amount->mutable_feature()->set_feature("amount");
  amount->mutable_values()->mutable_float_values()->add_values(12.5f);
  return request;
}

// Entity "customer" and group "tx" (amount float, country string) of squad risk, one row of c1.
void SeedRiskFeatures(v1::FeatureStore::Stub& stub) {
  v1::Entity stored;
  REQUIRE(stub.ApplyEntity(Admin().get(), testing::RiskCustomer(), &stored).ok());
  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* spec = apply.mutable_spec();
  spec->set_name("tx");
  spec->set_entity("customer");
  spec->set_owner_squad("risk");
  spec->mutable_ttl()->set_seconds(24 * 3600);
  v1::FeatureSpec* amount = spec->add_features();
  amount->set_name("amount");
  amount->set_type(v1::FEATURE_TYPE_FLOAT);
  v1::FeatureSpec* country = spec->add_features();
  country->set_name("country");
  country->set_type(v1::FEATURE_TYPE_STRING);
  v1::ApplyFeatureGroupResponse applied;
  const grpc::Status status = stub.ApplyFeatureGroup(Admin().get(), apply, &applied);
  INFO(status.error_message());
  REQUIRE(status.ok());
  const grpc::Status ingested = testing::IngestBatch(stub, Admin().get(), TxBatch());
  INFO(ingested.error_message());
  REQUIRE(ingested.ok());
}

TEST_CASE("fabrique-features: every method refused without its permission, allowed with it") {
  TempDir tmp;
  KillableService features("fabrique-features", tmp.Sub("data"), tmp.Sub("features.log"));
  auto stub = v1::FeatureStore::NewStub(features.channel());
  SeedRiskFeatures(*stub);
  testing::FeatureStoreAccess access;
  v1::Dataset dataset;
  const grpc::Status built = testing::BuildAmounts(*stub, Admin().get(), absl::Now(), &dataset);
  INFO(built.error_message());
  REQUIRE(built.ok());
  REQUIRE_FALSE(dataset.dataset_id().empty());
  access.dataset_id = dataset.dataset_id();
  v1::GetFeatureGroupRequest get_group;
  get_group.set_name("tx");
  v1::FeatureGroup tx;
  REQUIRE(stub->GetFeatureGroup(Admin().get(), get_group, &tx).ok());
  access.tx = tx.spec();
  access.ingest = TxBatch();
  access.label_time = absl::Now();
  const auto cases = testing::FeatureStoreAccessCases(access);
  CheckMatrix(auth::FeatureStoreMethods(), *stub, cases);
  CheckNoToken(*stub, cases);
}

// ---- Model registry ----

TEST_CASE("fabrique-registry: every method refused without its permission, allowed with it") {
  TempDir tmp;
  KillableService registry("fabrique-registry", tmp.Sub("data"), tmp.Sub("registry.log"));
  auto stub = v1::ModelRegistry::NewStub(registry.channel());
  const auto cases = testing::RegistryAccessCases(testing::SeedScoring(*stub, As));
  CheckMatrix(auth::ModelRegistryMethods(), *stub, cases);
  CheckNoToken(*stub, cases);
}

// ---- Trainer ----

// A small classifier of tx:amount labelled by tx:country, for squad risk.
v1::SubmitRunRequest RiskRun() {
  v1::SubmitRunRequest request;
  request.set_squad("risk");
  v1::RunSpec* spec = request.mutable_spec();
  spec->set_model_name("scoring");
  spec->set_task(v1::TASK_BINARY_CLASSIFICATION);
  v1::FeatureRef* amount = spec->add_features();
  amount->set_group("tx");
  amount->set_feature("amount");
  spec->mutable_label()->mutable_feature()->set_group("tx");
  spec->mutable_label()->mutable_feature()->set_feature("country");
  spec->mutable_family()->mutable_mlp()->add_hidden_sizes(4);
  spec->mutable_optimizer()->set_learning_rate(0.01);
  spec->set_epochs(1);
  spec->set_device(v1::DEVICE_CPU);
  spec->set_threads(1);
  spec->mutable_split()->mutable_random()->set_seed(1);
  return request;
}

std::vector<AccessCase<v1::Trainer::Stub>> TrainerCases(const std::string& run_id) {
  using S = v1::Trainer::Stub;
  v1::GetRunRequest get;
  get.set_run_id(run_id);
  v1::WatchRunRequest watch;
  watch.set_run_id(run_id);
  v1::CancelRunRequest cancel;
  cancel.set_run_id(run_id);
  v1::SubmitRunRequest validate = RiskRun();
  validate.set_validate_only(true);  // Queues nothing.
  return {
      {"GetRun", Unary(&S::GetRun, get), {"risk:product-owner"}, {"fraud:product-owner"}},
      {"ListRuns",
       Unary(&S::ListRuns, v1::ListRunsRequest()),
       {"risk:product-owner"},
       {"risk:data-engineer"}},
      {"WatchRun",
       FirstMessage(&S::WatchRun, watch),
       {"risk:data-scientist"},
       {"fraud:data-scientist"}},
      {"SubmitRun",
       Unary(&S::SubmitRun, validate),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"CancelRun", Unary(&S::CancelRun, cancel), {"risk:data-scientist"}, {"risk:product-owner"}},
  };
}

TEST_CASE("fabrique-trainer: every method refused without its permission, allowed with it") {
  TempDir tmp;
  // The trainer reads features and registers models through the real peers.
  KillableService features("fabrique-features", tmp.Sub("features"), tmp.Sub("features.log"));
  SeedRiskFeatures(*v1::FeatureStore::NewStub(features.channel()));
  KillableService registry("fabrique-registry", tmp.Sub("registry"), tmp.Sub("registry.log"));
  KillableService trainer("fabrique-trainer", tmp.Sub("trainer"), tmp.Sub("trainer.log"),
                          {absl::StrCat("--features_target=", features.target()),
                           absl::StrCat("--registry_target=", registry.target())});
  auto stub = v1::Trainer::NewStub(trainer.channel());
  v1::Run run;
  const grpc::Status submitted =
      stub->SubmitRun(As("dana", {"risk:data-scientist"}).get(), RiskRun(), &run);
  INFO(submitted.error_message());
  REQUIRE(submitted.ok());
  REQUIRE(run.squad() == "risk");
  const auto cases = TrainerCases(run.run_id());
  CheckMatrix(auth::TrainerMethods(), *stub, cases);
  CheckNoToken(*stub, cases);
}

}  // namespace
}  // namespace fabrique
