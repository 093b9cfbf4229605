#include "libs/serving/model_set.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "tests/serving/model_set_fakes.h"

namespace fabrique::serving {
namespace {

using testing::Eventually;
using testing::FakeLoader;
using testing::HasState;
using testing::ModelPlan;
using testing::Plan;
using testing::RecordingObserver;
using testing::Score;

using Fixture = testing::ModelSetFixture;
using testing::Mentions;

TEST_CASE("a model set needs a loader, a fetch function and at least one loader thread") {
  FakeLoader loader;
  ModelSetOptions options;
  options.fetch_module = testing::FetchPath;
  absl::Status status = ModelSet::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(status, "loader"));
  options.loader = &loader;
  options.loader_threads = 0;
  status = ModelSet::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(status, "loader_threads"));
  options.loader_threads = 1;
  options.fetch_module = nullptr;
  status = ModelSet::Create(options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Mentions(status, "fetch_module"));
}

TEST_CASE("a planned version loads in the background, becomes READY and answers") {
  Fixture f;
  CHECK_FALSE(f.set->Ready());  // No plan yet.
  f.set->Apply(Plan(7, {ModelPlan("churn", 1)}));
  CHECK(f.set->revision() == 7);
  REQUIRE(Eventually([&] { return f.set->Ready(); }));

  auto route = f.Policy("customer:1");
  REQUIRE(route.ok());
  CHECK(route->version->version() == 1);
  CHECK(route->alias == "production");
  CHECK_FALSE(route->canary);
  CHECK(route->shadow == nullptr);
  CHECK(*Score(*route->version, 3) == 1);
  // Warm-up defaults to the model's preferred batch sizes and its maximum.
  CHECK(f.loader.warmup() == std::vector<int>{4, 8, 16});

  const std::vector<ServedModelStatus> status = f.set->Status();
  REQUIRE(status.size() == 1);
  CHECK(status[0].model == "churn");
  CHECK(status[0].primary_version == 1);
  CHECK(status[0].policy.primary_alias() == "production");
  REQUIRE(status[0].versions.size() == 1);
  const ServedVersionStatus& v1 = status[0].versions[0];
  CHECK(v1.state == VersionState::kReady);
  CHECK(v1.device == "cpu");
  CHECK(v1.module_sha256 == "sha-of-churn-1");
  CHECK(v1.load_time == f.clock.Now());
  CHECK(v1.aliases == std::vector<std::string>{"production"});

  CHECK(f.observer.states() == std::vector<std::string>{"churn/1 LOADING", "churn/1 READY"});
  const auto swaps = f.observer.swaps();
  REQUIRE(swaps.size() == 1);
  CHECK(swaps[0].role == ServingRole::kPrimary);
  CHECK(swaps[0].from == 0);
  CHECK(swaps[0].to == 1);
}

TEST_CASE("while its first version loads, a model answers UNAVAILABLE saying so") {
  Fixture f;
  f.loader.Block(1);
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  CHECK_FALSE(f.set->Ready());
  absl::Status status = f.Policy().status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(Mentions(status, "LOADING"));
  status = f.set->Resolve("churn", 1, "", "").status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(Mentions(status, "version 1 is LOADING"));
  CHECK(f.set->Resolve("churn", 0, "production", "").status().code() ==
        absl::StatusCode::kUnavailable);
  f.loader.Unblock(1);
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
}

TEST_CASE("a swap keeps the old version answering until the new one is READY") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  f.loader.Block(2);
  f.set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return f.loader.loads(2) == 1; }));
  CHECK(f.PolicyVersion() == 1);
  CHECK(f.set->Resolve("churn", 0, "production", "")->version->version() == 1);
  CHECK(f.set->Ready());  // Still answered by a READY primary.
  CHECK(f.set->Status()[0].planned_primary_version == 2);
  CHECK(f.set->Status()[0].primary_version == 1);

  f.clock.Advance(absl::Seconds(5));  // The load takes 5 s.
  f.loader.Unblock(2);
  REQUIRE(Eventually([&] { return f.PolicyVersion() == 2; }));
  const auto swaps = f.observer.swaps();
  REQUIRE(swaps.size() == 2);
  CHECK(swaps[1].from == 1);
  CHECK(swaps[1].to == 2);
  CHECK(swaps[1].took == absl::Seconds(5));
  // Nobody holds version 1 any more: released, its module freed.
  REQUIRE(Eventually([&] { return f.loader.destroyed(1) == 1; }));
  CHECK(f.set->Resolve("churn", 1, "", "").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a version that fails to load is FAILED with its reason and the old one keeps serving") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  f.loader.Fail(2, absl::InvalidArgumentError("forward takes 3 inputs, the signature has 2"));
  f.set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return HasState(*f.set, "churn", 2, VersionState::kFailed); }));

  CHECK(f.PolicyVersion() == 1);
  CHECK(f.set->Ready());
  const absl::Status asked = f.set->Resolve("churn", 2, "", "").status();
  CHECK(asked.code() == absl::StatusCode::kUnavailable);
  CHECK(Mentions(asked, "FAILED"));
  CHECK(Mentions(asked, "forward takes 3 inputs"));
  const ServedModelStatus status = f.set->Status()[0];
  CHECK(status.primary_version == 1);
  REQUIRE(status.versions.size() == 2);
  CHECK(status.versions[1].state == VersionState::kFailed);
  CHECK(status.versions[1].failure_reason.find("forward takes 3 inputs") != std::string::npos);
  CHECK(status.versions[1].failure_reason.find("version 2") != std::string::npos);
  const auto failures = f.observer.failures();
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("churn/2: ") == 0);
  CHECK(f.loader.destroyed(1) == 0);
}

TEST_CASE("a load that failed UNAVAILABLE is tried again by the next plan; other failures not") {
  Fixture f;
  f.loader.Fail(2, absl::UnavailableError("the registry cannot be reached"));
  f.loader.Fail(3, absl::InvalidArgumentError("not a TorchScript module"));
  f.set->Apply(Plan(1, {ModelPlan("churn", 2), ModelPlan("fraud", 3)}));
  REQUIRE(Eventually([&] {
    return HasState(*f.set, "churn", 2, VersionState::kFailed) &&
           HasState(*f.set, "fraud", 3, VersionState::kFailed);
  }));
  CHECK_FALSE(f.set->Ready());
  f.loader.Succeed(2);
  f.loader.Succeed(3);
  f.set->Apply(Plan(2, {ModelPlan("churn", 2), ModelPlan("fraud", 3)}));
  REQUIRE(Eventually([&] { return f.PolicyVersion() == 2; }));
  CHECK(f.loader.loads(2) == 2);
  CHECK(f.loader.loads(3) == 1);
  CHECK(HasState(*f.set, "fraud", 3, VersionState::kFailed));
}

TEST_CASE("a version the plan drops while it loads is discarded when its load ends") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  f.loader.Block(2);
  f.set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return f.loader.loads(2) == 1; }));
  f.set->Apply(Plan(3, {ModelPlan("churn", 1)}));
  f.loader.Unblock(2);
  REQUIRE(Eventually([&] { return f.loader.destroyed(2) == 1; }));
  CHECK(f.PolicyVersion() == 1);
  CHECK(f.set->Status()[0].versions.size() == 1);
  for (const std::string& state : f.observer.states()) CHECK(state != "churn/2 READY");
}

TEST_CASE("a replaced version held by a request drains: it answers, then is freed on release") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  auto held = f.Policy();
  REQUIRE(held.ok());
  f.set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return f.PolicyVersion() == 2; }));

  CHECK(held->version->state() == VersionState::kUnloading);
  CHECK(HasState(*f.set, "churn", 1, VersionState::kUnloading));
  CHECK(*Score(*held->version) == 1);  // Routed before the swap: still answered.
  CHECK(f.loader.destroyed(1) == 0);
  CHECK(f.set->Resolve("churn", 1, "", "").status().code() == absl::StatusCode::kNotFound);

  held = absl::UnavailableError("released");
  REQUIRE(Eventually([&] { return f.loader.destroyed(1) == 1; }));
  CHECK_FALSE(HasState(*f.set, "churn", 1, VersionState::kUnloading));
}

TEST_CASE("a request answered after its version was replaced may be the version's last holder") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  auto route = std::make_shared<Route>(*f.Policy());
  f.set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return f.PolicyVersion() == 2; }));
  std::atomic<bool> answered{false};
  ServedVersion* version = route->version.get();
  // The callback owns the last reference: releasing it there must neither deadlock nor leak.
  version->Submit(testing::Rows(1), absl::InfiniteFuture(),
                  [route = std::move(route), &answered](absl::StatusOr<TensorBatch> out,
                                                        const BatchStats&) mutable {
                    answered = out.ok();
                    route.reset();
                  });
  REQUIRE(Eventually([&] { return f.loader.destroyed(1) == 1; }));
  CHECK(answered);
}

TEST_CASE("an alias moved back to a version still draining answers at once, without a load") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  auto held = f.Policy();
  f.set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return f.PolicyVersion() == 2; }));
  f.set->Apply(Plan(3, {ModelPlan("churn", 1)}));
  CHECK(f.PolicyVersion() == 1);  // Immediately, in Apply.
  CHECK(f.loader.loads(1) == 1);
  CHECK(held->version->state() == VersionState::kReady);
}

TEST_CASE("a plan with the same versions changes nothing") {
  Fixture f;
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1, 2, 10), 2));  // Both READY.
  const size_t states = f.observer.states().size();
  const size_t swaps = f.observer.swaps().size();
  f.set->Apply(Plan(8, {ModelPlan("churn", 1, 2, 10)}));
  CHECK(f.set->revision() == 8);
  CHECK(f.loader.loads(1) == 1);
  CHECK(f.loader.loads(2) == 1);
  CHECK(f.observer.states().size() == states);
  CHECK(f.observer.swaps().size() == swaps);
}

TEST_CASE("a model left out of the plan is no longer served and its versions are freed") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1), ModelPlan("fraud", 4)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  f.set->Apply(Plan(2, {ModelPlan("fraud", 4)}));
  const absl::Status gone = f.Policy().status();
  CHECK(gone.code() == absl::StatusCode::kNotFound);
  CHECK(Mentions(gone, "'churn'"));
  CHECK(Mentions(gone, "served: fraud"));
  REQUIRE(Eventually([&] { return f.loader.destroyed(1) == 1; }));
  CHECK(f.set->Status().size() == 1);
  CHECK(f.set->Resolve("fraud", 0, "", "")->version->version() == 4);
}

TEST_CASE("unknown models, versions and aliases are NOT_FOUND naming what is served") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  absl::Status status = f.set->Resolve("nope", 0, "", "").status();
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(Mentions(status, "'nope'"));
  CHECK(Mentions(status, "served: churn"));
  status = f.set->Resolve("churn", 9, "", "").status();
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(Mentions(status, "version 9"));
  CHECK(Mentions(status, "served versions: 1"));
  status = f.set->Resolve("churn", 0, "staging", "").status();
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(Mentions(status, "'staging'"));
  // No candidate in the plan: its alias is not served either.
  CHECK(f.set->Resolve("churn", 0, "candidate", "").status().code() == absl::StatusCode::kNotFound);
  // By number or alias: exactly that, reported as such.
  auto by_number = f.set->Resolve("churn", 1, "", "");
  REQUIRE(by_number.ok());
  CHECK(by_number->alias.empty());
  CHECK(f.set->Resolve("churn", 0, "production", "")->alias == "production");
}

TEST_CASE("a registry alias other than the policy's reaches the version whose record has it") {
  Fixture f;
  ServedModelPlan plan = ModelPlan("churn", 1);
  plan.versions[3] = testing::Record("churn", 3);
  plan.versions[3].add_aliases("staging");
  REQUIRE(f.ApplyAndWait(plan, 3));
  auto route = f.set->Resolve("churn", 0, "staging", "");
  REQUIRE(route.ok());
  CHECK(route->version->version() == 3);
  CHECK(route->alias == "staging");
  CHECK(f.PolicyVersion() == 1);
}

TEST_CASE("a model whose primary alias is unset is listed, not served, and does not block Ready") {
  Fixture f;
  f.set->Apply(Plan(1, {ModelPlan("churn", 0), ModelPlan("fraud", 4)}));
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
  const absl::Status status = f.Policy().status();
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(Mentions(status, "'production'"));
  CHECK(f.set->Status().size() == 2);
}

TEST_CASE("Ready waits for every model's primary") {
  Fixture f;
  f.loader.Block(4);
  f.set->Apply(Plan(1, {ModelPlan("churn", 1), ModelPlan("fraud", 4)}));
  REQUIRE(Eventually([&] { return HasState(*f.set, "churn", 1, VersionState::kReady); }));
  CHECK_FALSE(f.set->Ready());
  f.loader.Unblock(4);
  REQUIRE(Eventually([&] { return f.set->Ready(); }));
}

// Reads the set back from inside its hooks, as a metrics exporter might.
class ReadingObserver : public ModelSetObserver {
 public:
  void OnSwap(const std::string& model, ServingRole, int64_t, int64_t to, absl::Duration) override {
    auto route = set->Resolve(model, 0, "", "");
    if (route.ok() && route->version->version() == to) seen.fetch_add(1);
    if (!set->Status().empty()) seen.fetch_add(1);
  }
  ModelSet* set = nullptr;
  std::atomic<int> seen{0};
};

TEST_CASE("observer hooks run outside the set's lock: they may read the set") {
  testing::FakeLoader loader;
  ReadingObserver observer;
  ModelSetOptions options;
  options.loader = &loader;
  options.fetch_module = testing::FetchPath;
  options.observer = &observer;
  std::unique_ptr<ModelSet> set = *ModelSet::Create(std::move(options));
  observer.set = set.get();
  set->Apply(Plan(1, {ModelPlan("churn", 1)}));
  REQUIRE(Eventually([&] { return observer.seen.load() == 2; }));
  set->Apply(Plan(2, {ModelPlan("churn", 2)}));
  REQUIRE(Eventually([&] { return observer.seen.load() == 4; }));
}

}  // namespace
}  // namespace fabrique::serving
