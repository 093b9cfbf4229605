#ifndef FABRIQUE_TESTS_SERVING_FOLLOWER_HARNESS_H_
#define FABRIQUE_TESTS_SERVING_FOLLOWER_HARNESS_H_

// A registry follower wired to an in-memory registry, a fake clock, a real artifact cache and
// plan store in a temporary directory, recording every plan it hands over; and the watch events
// a test scripts it with.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/core/hash_chain.h"
#include "libs/serving/registry_follower.h"
#include "tests/serving/fake_registry_port.h"
#include "tests/util/test_util.h"

namespace fabrique::serving::testing {

using fabrique::testing::PollUntil;

inline constexpr absl::Duration kWait = absl::Seconds(10);

inline v1::WatchEvent Event(v1::WatchEventType type, const std::string& model, int64_t revision) {
  v1::WatchEvent event;
  event.set_type(type);
  event.set_model(model);
  event.set_revision(revision);
  return event;
}

inline v1::WatchEvent ModelEvent(v1::WatchEventType type, const std::string& name,
                                 const std::string& squad,
                                 const std::map<std::string, int64_t>& aliases, int64_t revision) {
  v1::WatchEvent event = Event(type, name, revision);
  event.mutable_model_object()->set_name(name);
  event.mutable_model_object()->set_owner_squad(squad);
  for (const auto& [alias, version] : aliases) {
    (*event.mutable_model_object()->mutable_aliases())[alias] = version;
  }
  return event;
}

inline v1::WatchEvent AliasEvent(v1::WatchEventType type, const std::string& model,
                                 const std::string& alias, int64_t version, int64_t revision) {
  v1::WatchEvent event = Event(type, model, revision);
  event.mutable_alias()->set_model(model);
  event.mutable_alias()->set_name(alias);
  if (type == v1::WATCH_EVENT_TYPE_ALIAS_SET) {
    event.mutable_alias()->set_version(version);
  } else {
    event.set_previous_version(version);
  }
  return event;
}

inline v1::WatchEvent PolicyEvent(const std::string& model, double canary, bool shadow,
                                  int64_t revision) {
  v1::WatchEvent event = Event(v1::WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED, model, revision);
  event.mutable_traffic_policy()->set_model(model);
  event.mutable_traffic_policy()->set_canary_percent(canary);
  event.mutable_traffic_policy()->set_shadow(shadow);
  return event;
}

// A model as a snapshot shows it: its record with its aliases, each alias, its traffic policy.
struct SnapshotModel {
  std::string name;
  std::string squad;
  std::map<std::string, int64_t> aliases;
  double canary = 0;
  bool shadow = false;
};

class Harness {
 public:
  Harness() {
    auto cache = ArtifactCache::Create({.dir = dir_.Sub("cache"), .registry = &registry});
    REQUIRE(cache.ok());
    cache_ = *std::move(cache);
    auto store = PlanStore::Create({.dir = dir_.Sub("cache")});
    REQUIRE(store.ok());
    store_ = *std::move(store);
    for (const char* model : {"churn", "fraud", "ads"}) {
      for (int64_t number = 1; number <= 4; ++number) AddVersion(model, number);
    }
  }

  void AddVersion(const std::string& model, int64_t number) {
    const std::string bytes = absl::StrCat("module of ", model, " v", number);
    v1::ModelVersion version;
    version.set_model(model);
    version.set_version(number);
    v1::VersionArtifact* artifact = version.add_artifacts();
    artifact->set_kind(v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
    artifact->mutable_artifact()->set_sha256(core::Sha256Hex(bytes));
    artifact->mutable_artifact()->set_size_bytes(static_cast<int64_t>(bytes.size()));
    registry.PutVersion(version);
    registry.PutArtifact(core::Sha256Hex(bytes), bytes);
  }

  void Start(ModelSelector selector = {}, FollowerBackoff backoff = {}) {
    auto follower = RegistryFollower::Create({
        .registry = &registry,
        .selector = std::move(selector),
        .cache = cache_.get(),
        .plan_store = store_.get(),
        .on_plan =
            [this](const ServingPlan& plan) {
              absl::MutexLock lock(&mu_);
              plans_.push_back(plan);
            },
        .backoff = backoff,
        .clock = &clock,
    });
    REQUIRE(follower.ok());
    follower_ = *std::move(follower);
    follower_->Start();
  }

  void SendSnapshot(const std::vector<SnapshotModel>& models, int64_t revision) {
    for (const SnapshotModel& model : models) {
      v1::WatchEvent created = ModelEvent(v1::WATCH_EVENT_TYPE_MODEL_CREATED, model.name,
                                          model.squad, model.aliases, revision);
      created.set_snapshot(true);
      registry.Send(created);
      for (const auto& [alias, version] : model.aliases) {
        v1::WatchEvent set =
            AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, model.name, alias, version, revision);
        set.set_snapshot(true);
        registry.Send(set);
      }
      v1::WatchEvent policy = PolicyEvent(model.name, model.canary, model.shadow, revision);
      policy.mutable_traffic_policy()->set_primary_alias("production");
      policy.mutable_traffic_policy()->set_candidate_alias("candidate");
      policy.set_snapshot(true);
      registry.Send(policy);
    }
    registry.Send(Event(v1::WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE, "", revision));
  }

  size_t plan_count() {
    absl::MutexLock lock(&mu_);
    return plans_.size();
  }
  ServingPlan plan(size_t i) {
    absl::MutexLock lock(&mu_);
    return plans_.at(i);
  }
  // Waits for the n-th plan (1-based) and returns it.
  ServingPlan AwaitPlan(size_t n, absl::Duration timeout = kWait) {
    REQUIRE(PollUntil([&] { return plan_count() >= n; }, timeout));
    return plan(n - 1);
  }
  // Ends the open stream with `status` and lets the follower's backoff pass.
  void BreakStream(const absl::Status& status, int64_t sleeps) {
    registry.End(status);
    REQUIRE(clock.AwaitSleeps(sleeps, kWait));
    clock.Advance(absl::Seconds(10));
  }

  FakeRegistryPort registry;
  core::FakeClock clock;
  RegistryFollower& follower() { return *follower_; }
  ArtifactCache& cache() { return *cache_; }
  PlanStore& store() { return *store_; }

 private:
  fabrique::testing::TempDir dir_;
  std::unique_ptr<ArtifactCache> cache_;
  std::unique_ptr<PlanStore> store_;
  absl::Mutex mu_;
  std::vector<ServingPlan> plans_;
  std::unique_ptr<RegistryFollower> follower_;  // Last: stopped before the rest goes.
};

inline std::vector<std::string> Names(const ServingPlan& plan) {
  std::vector<std::string> names;
  for (const ServedModelPlan& model : plan.models) names.push_back(model.model);
  return names;
}

inline std::vector<int64_t> Numbers(const ServedModelPlan& model) {
  std::vector<int64_t> numbers;
  for (const auto& [number, version] : model.versions) numbers.push_back(number);
  return numbers;
}

inline const std::vector<SnapshotModel> kRegistry = {
    {.name = "churn", .squad = "retention", .aliases = {{"production", 2}, {"candidate", 3}}},
    {.name = "fraud", .squad = "risk"},
    {.name = "ads", .squad = "growth", .aliases = {{"production", 1}}},
};

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_FOLLOWER_HARNESS_H_
