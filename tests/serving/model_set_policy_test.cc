// The model set's traffic policy (canary, shadow), its capacity-validation loads and Stop.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/serving/model_set.h"
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

TEST_CASE("the canary share sends the hashed entities to the candidate, the same ones each time") {
  Fixture f;
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1, 2, 50.21), 2));
  REQUIRE(Eventually([&] { return f.set->Status()[0].candidate_version == 2; }));
  // Bucket of ("churn", "customer:42") is 5020 (canary_router_test.cc): in at 50.21 %.
  for (int i = 0; i < 3; ++i) {
    auto route = f.set->Resolve("churn", 0, "", "customer:42");
    REQUIRE(route.ok());
    CHECK(route->version->version() == 2);
    CHECK(route->canary);
    CHECK(route->alias == "candidate");
    CHECK(*Score(*route->version) == 2);
  }
  int canary = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = absl::StrCat("customer:", i);
    auto route = f.set->Resolve("churn", 0, "", key);
    REQUIRE(route.ok());
    CHECK(route->canary == CanaryRouter::ByEntity("churn", key, 50.21));
    CHECK(route->canary == (route->version->version() == 2));
    canary += route->canary ? 1 : 0;
  }
  CHECK(canary > 850);
  CHECK(canary < 1150);
  CHECK(f.observer.canary_routes() == canary + 3);
}

TEST_CASE("a share of 0 keeps every row on the primary, 100 sends every row to the candidate") {
  Fixture f;
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1, 2, 0), 2));
  for (int i = 0; i < 200; ++i) {
    auto route = f.set->Resolve("churn", 0, "", absl::StrCat("e", i));
    CHECK(route->version->version() == 1);
    CHECK_FALSE(route->canary);
  }
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1, 2, 100), 2));
  for (int i = 0; i < 200; ++i) {
    auto route = f.set->Resolve("churn", 0, "", i % 2 == 0 ? absl::StrCat("e", i) : "");
    CHECK(route->version->version() == 2);
    CHECK(route->canary);
  }
}

TEST_CASE("random routing, or a row without an entity key, draws the share at random") {
  Fixture f;
  ServedModelPlan plan = ModelPlan("churn", 1, 2, 25);
  plan.policy.set_canary_routing(v1::CANARY_ROUTING_RANDOM);
  REQUIRE(f.ApplyAndWait(plan, 2));
  REQUIRE(Eventually([&] { return f.set->Status()[0].candidate_version == 2; }));
  int canary = 0;
  for (int i = 0; i < 10000; ++i) {
    // The same entity every time: random routing ignores it.
    canary += f.set->Resolve("churn", 0, "", "customer:42")->canary ? 1 : 0;
  }
  CHECK(canary > 2300);
  CHECK(canary < 2700);
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1, 2, 25), 2));  // Entity hash, but no key given.
  canary = 0;
  for (int i = 0; i < 10000; ++i) canary += f.set->Resolve("churn", 0, "", "")->canary ? 1 : 0;
  CHECK(canary > 2300);
  CHECK(canary < 2700);
}

TEST_CASE("shadow: the primary answers and the READY candidate also scores the row") {
  Fixture f;
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1, 2, 0, /*shadow=*/true), 2));
  REQUIRE(Eventually([&] { return f.set->Status()[0].candidate_version == 2; }));
  auto route = f.set->Resolve("churn", 0, "", "customer:1");
  REQUIRE(route.ok());
  CHECK(route->version->version() == 1);
  CHECK_FALSE(route->canary);
  REQUIRE(route->shadow != nullptr);
  CHECK(route->shadow->version() == 2);
  CHECK(*Score(*route->shadow) == 2);
  CHECK(f.observer.shadow_routes() == 1);
  // Asked by alias or number: exactly that, no shadow.
  CHECK(f.set->Resolve("churn", 0, "production", "")->shadow == nullptr);
  CHECK(f.set->Resolve("churn", 1, "", "")->shadow == nullptr);
}

TEST_CASE("until the candidate is READY, canary and shadow rows all go to the primary") {
  Fixture f;
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1), 1));
  f.loader.Block(2);
  f.set->Apply(Plan(9, {ModelPlan("churn", 1, 2, 100, /*shadow=*/true)}));
  for (int i = 0; i < 100; ++i) {
    auto route = f.set->Resolve("churn", 0, "", absl::StrCat("e", i));
    REQUIRE(route.ok());
    CHECK(route->version->version() == 1);
    CHECK_FALSE(route->canary);
    CHECK(route->shadow == nullptr);
    CHECK_FALSE(route->by_key);  // Every key goes to the primary: a request routes once.
  }
  CHECK(f.set->Resolve("churn", 0, "candidate", "").status().code() ==
        absl::StatusCode::kUnavailable);
  f.loader.Unblock(2);
  REQUIRE(Eventually([&] { return f.set->Resolve("churn", 0, "", "e1")->canary; }));
  CHECK(f.set->Resolve("churn", 0, "", "e1")->by_key);
}

TEST_CASE("LoadExtra loads a version beside production, never routed, freed when let go") {
  Fixture f;
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1), 1));
  auto extra = f.set->LoadExtra(testing::Record("churn", 5), absl::InfiniteFuture());
  REQUIRE(extra.ok());
  CHECK((*extra)->state() == VersionState::kReady);
  CHECK(*Score(**extra) == 5);
  CHECK(f.set->Resolve("churn", 5, "", "").status().code() == absl::StatusCode::kNotFound);
  CHECK(f.set->Resolve("churn", 0, "", "")->version->version() == 1);
  extra = absl::CancelledError("done with it");
  REQUIRE(Eventually([&] { return f.loader.destroyed(5) == 1; }));
}

TEST_CASE("LoadExtra returns the load's error, or DEADLINE_EXCEEDED when the load is slower") {
  Fixture f;
  f.loader.Fail(6, absl::FailedPreconditionError("cuda was asked for and is absent"));
  const absl::Status failed =
      f.set->LoadExtra(testing::Record("churn", 6), absl::InfiniteFuture()).status();
  CHECK(failed.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Mentions(failed, "cuda"));
  CHECK(Mentions(failed, "version 6"));

  f.loader.Block(7);
  const absl::Status late = f.set->LoadExtra(testing::Record("churn", 7), f.clock.Now()).status();
  CHECK(late.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(Mentions(late, "version 7"));
  f.loader.Unblock(7);
  // Nobody wanted it: released once loaded.
  REQUIRE(Eventually([&] { return f.loader.destroyed(7) == 1; }));
}

TEST_CASE("Stop fails queued loads, drains every batcher and refuses later work; twice is fine") {
  Fixture f(/*loader_threads=*/1);
  REQUIRE(f.ApplyAndWait(ModelPlan("churn", 1), 1));
  auto held = f.set->Resolve("churn", 0, "", "");
  REQUIRE(held.ok());
  f.loader.Block(2);
  f.set->Apply(Plan(5, {ModelPlan("churn", 2), ModelPlan("fraud", 3)}));  // 3 queued behind 2.
  REQUIRE(Eventually([&] { return f.loader.loads(2) == 1; }));
  std::thread stopper([&] { f.set->Stop(); });
  REQUIRE(Eventually([&] {
    return f.set->Resolve("churn", 0, "", "").status().code() == absl::StatusCode::kUnavailable;
  }));
  f.loader.Unblock(2);  // A load in progress finishes; Stop waits for it.
  stopper.join();
  f.set->Stop();

  CHECK(f.loader.loads(3) == 0);
  CHECK(HasState(*f.set, "fraud", 3, VersionState::kFailed));
  const absl::Status refused = Score(*held->version).status();
  CHECK(refused.code() == absl::StatusCode::kUnavailable);
  CHECK(Mentions(f.set->Resolve("churn", 0, "", "").status(), "stopping"));
  f.set->Apply(Plan(6, {ModelPlan("churn", 4)}));
  CHECK(f.set->revision() == 5);
  CHECK_FALSE(f.set->Ready());
  CHECK(f.set->LoadExtra(testing::Record("churn", 8), absl::InfiniteFuture()).status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("a model's own batching options override the defaults, warm-up included") {
  testing::FakeLoader loader;
  ModelSetOptions options;
  options.loader = &loader;
  options.fetch_module = testing::FetchPath;
  options.batching.max_batch_size = 32;
  options.batching.preferred_batch_sizes = {8, 32};
  options.batching_by_model["fraud"].max_batch_size = 2;
  std::unique_ptr<ModelSet> set = *ModelSet::Create(std::move(options));
  set->Apply(testing::Plan(1, {testing::ModelPlan("churn", 1)}));
  REQUIRE(testing::Eventually([&] { return set->Ready(); }));
  CHECK(loader.warmup() == std::vector<int>{8, 32});  // The maximum is not warmed twice.
  CHECK(*testing::Score(*set->Resolve("churn", 0, "", "")->version, 3) == 1);

  set->Apply(testing::Plan(2, {testing::ModelPlan("fraud", 4)}));
  REQUIRE(testing::Eventually([&] { return set->Ready(); }));
  CHECK(loader.warmup() == std::vector<int>{2});
  auto route = set->Resolve("fraud", 0, "", "");
  REQUIRE(route.ok());
  CHECK(testing::Score(*route->version, 3).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(*testing::Score(*route->version, 2) == 4);
}

}  // namespace
}  // namespace fabrique::serving
