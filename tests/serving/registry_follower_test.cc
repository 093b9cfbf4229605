#include "libs/serving/registry_follower.h"

#include "catch2/catch.hpp"
#include "tests/serving/follower_harness.h"
#include "tests/util/test_util.h"

namespace fabrique::serving::testing {
namespace {

using fabrique::testing::PollUntil;

TEST_CASE("RegistryFollower turns the registry's snapshot into the first plan") {
  Harness h;
  h.SendSnapshot(kRegistry, 10);
  h.Start();
  const ServingPlan plan = h.AwaitPlan(1);

  const std::vector<v1::WatchRequest> requests = h.registry.watch_requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].include_snapshot());
  CHECK(requests[0].after_revision() == 0);
  CHECK(requests[0].models().empty());

  CHECK(plan.revision == 10);
  CHECK_FALSE(plan.from_cache);
  // Every model with a production version; fraud has none.
  CHECK(Names(plan) == std::vector<std::string>{"ads", "churn"});
  const ServedModelPlan& churn = plan.models[1];
  CHECK(churn.owner_squad == "retention");
  CHECK(churn.policy.primary_alias() == "production");
  CHECK(churn.policy.candidate_alias() == "candidate");
  CHECK(churn.primary_version == 2);
  CHECK(churn.candidate_version == 0);  // No canary share, no shadow.
  CHECK(Numbers(churn) == std::vector<int64_t>{2});
  CHECK(churn.versions.at(2).artifacts_size() == 1);

  // Marked applied once on_plan has returned.
  REQUIRE(PollUntil([&] { return h.follower().snapshot_applied(); }, kWait));
  CHECK(h.follower().revision() == 10);
  CHECK(h.follower().connected());
  // The modules were fetched before the plan was handed over.
  CHECK(h.registry.download_calls() == 2);
  const std::string module_sha = churn.versions.at(2).artifacts(0).artifact().sha256();
  CHECK(std::filesystem::exists(h.cache().PathOf(module_sha)));
  // And the plan is stored for a restart.
  REQUIRE(PollUntil([&] { return std::filesystem::exists(h.store().path()); }, kWait));
}

TEST_CASE("RegistryFollower hands over a new plan when an alias moves, and only then") {
  Harness h;
  h.SendSnapshot(kRegistry, 10);
  h.Start();
  h.AwaitPlan(1);
  const int64_t version_reads = h.registry.get_version_calls();

  const absl::Time sent = absl::Now();
  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "churn", "production", 3, 11));
  const ServingPlan moved = h.AwaitPlan(2);
  CHECK(absl::Now() - sent < absl::Seconds(1));
  CHECK(moved.revision == 11);
  CHECK(moved.models[1].primary_version == 3);
  CHECK(Numbers(moved.models[1]) == std::vector<int64_t>{3});

  // Changes that serve nothing new advance the revision without a plan.
  h.registry.Send(Event(v1::WATCH_EVENT_TYPE_VERSION_REGISTERED, "churn", 12));
  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "fraud", "staging", 1, 13));
  h.registry.Send(Event(v1::WATCH_EVENT_TYPE_BOOKMARK, "", 14));
  REQUIRE(PollUntil([&] { return h.follower().revision() == 14; }, kWait));
  CHECK(h.plan_count() == 2);

  // Moving back needs no registry read: version records are immutable and kept.
  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "churn", "production", 2, 15));
  CHECK(h.AwaitPlan(3).models[1].primary_version == 2);
  CHECK(h.registry.get_version_calls() == version_reads + 1);  // Only version 3's.
}

TEST_CASE("RegistryFollower serves the models its selector names") {
  Harness h;
  SECTION("by name: listed even without a production version") {
    h.SendSnapshot(kRegistry, 10);
    h.Start({.models = {"fraud", "churn"}});
    const ServingPlan plan = h.AwaitPlan(1);
    CHECK(Names(plan) == std::vector<std::string>{"churn", "fraud"});
    CHECK(plan.models[1].primary_version == 0);
    CHECK(plan.models[1].versions.empty());
    const v1::WatchRequest request = h.registry.watch_requests().at(0);
    CHECK(std::vector<std::string>(request.models().begin(), request.models().end()) ==
          std::vector<std::string>{"fraud", "churn"});
  }
  SECTION("by squad") {
    h.SendSnapshot(kRegistry, 10);
    h.Start({.squad = "retention"});
    CHECK(Names(h.AwaitPlan(1)) == std::vector<std::string>{"churn"});
    // A model moved into the squad joins the plan.
    h.registry.Send(ModelEvent(v1::WATCH_EVENT_TYPE_MODEL_UPDATED, "ads", "retention",
                               {{"production", 1}}, 11));
    CHECK(Names(h.AwaitPlan(2)) == std::vector<std::string>{"ads", "churn"});
  }
  SECTION("by default, every model with a primary version") {
    h.SendSnapshot(kRegistry, 10);
    h.Start();
    CHECK(Names(h.AwaitPlan(1)) == std::vector<std::string>{"ads", "churn"});
    h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "fraud", "production", 4, 11));
    const ServingPlan plan = h.AwaitPlan(2);
    CHECK(Names(plan) == std::vector<std::string>{"ads", "churn", "fraud"});
    CHECK(plan.models[2].primary_version == 4);
  }
}

TEST_CASE("RegistryFollower adds the candidate for a canary share or shadow") {
  Harness h;
  std::vector<SnapshotModel> models = kRegistry;
  SECTION("canary") {
    models[0].canary = 10;
    h.SendSnapshot(models, 10);
    h.Start();
    const ServedModelPlan churn = h.AwaitPlan(1).models[1];
    CHECK(churn.candidate_version == 3);
    CHECK(Numbers(churn) == std::vector<int64_t>{2, 3});
    CHECK(churn.policy.canary_percent() == 10);
  }
  SECTION("shadow") {
    models[0].shadow = true;
    h.SendSnapshot(models, 10);
    h.Start();
    CHECK(h.AwaitPlan(1).models[1].candidate_version == 3);
  }
  SECTION("a canary share whose candidate alias is unset") {
    models[2].canary = 50;  // ads has no candidate alias.
    h.SendSnapshot(models, 10);
    h.Start();
    const ServedModelPlan ads = h.AwaitPlan(1).models[0];
    CHECK(ads.candidate_version == 0);
    CHECK(Numbers(ads) == std::vector<int64_t>{1});
  }
  SECTION("a live policy change") {
    h.SendSnapshot(models, 10);
    h.Start();
    CHECK(h.AwaitPlan(1).models[1].candidate_version == 0);
    h.registry.Send(PolicyEvent("churn", 25, false, 11));
    CHECK(h.AwaitPlan(2).models[1].candidate_version == 3);
    h.registry.Send(PolicyEvent("churn", 0, false, 12));
    CHECK(h.AwaitPlan(3).models[1].candidate_version == 0);
  }
}

TEST_CASE("RegistryFollower reads the record of a model it sees a change of first") {
  Harness h;
  v1::Model late;
  late.set_name("late");
  late.set_owner_squad("retention");
  (*late.mutable_aliases())["production"] = 2;
  h.registry.PutModel(late);
  v1::TrafficPolicy policy;
  policy.set_model("late");
  policy.set_shadow(true);
  h.registry.PutPolicy(policy);
  h.AddVersion("late", 2);
  h.SendSnapshot(kRegistry, 10);
  h.Start({.squad = "retention"});
  h.AwaitPlan(1);

  // Its creation was not visible to this server; its alias change is.
  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "late", "candidate", 2, 11));
  const ServingPlan plan = h.AwaitPlan(2);
  REQUIRE(Names(plan) == std::vector<std::string>{"churn", "late"});
  CHECK(plan.models[1].primary_version == 2);
  CHECK(plan.models[1].candidate_version == 2);  // Shadow, from the policy read.

  // A change of a model the registry no longer has is skipped.
  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "gone", "production", 1, 12));
  REQUIRE(PollUntil([&] { return h.follower().revision() == 12; }, kWait));
  CHECK(h.plan_count() == 2);
}

TEST_CASE("RegistryFollower drops a served version when it is archived") {
  Harness h;
  h.SendSnapshot(kRegistry, 10);
  h.Start({.models = {"churn"}});
  h.AwaitPlan(1);
  // Archiving releases the aliases that held it, in events of their own.
  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_DELETED, "churn", "production", 2, 11));
  h.registry.Send(Event(v1::WATCH_EVENT_TYPE_VERSION_ARCHIVED, "churn", 12));
  const ServedModelPlan churn = h.AwaitPlan(2).models[0];
  CHECK(churn.primary_version == 0);
  CHECK(churn.versions.empty());
}

TEST_CASE("RegistryFollower resumes after the last revision when the stream breaks") {
  Harness h;
  h.SendSnapshot(kRegistry, 10);
  h.Start();
  h.AwaitPlan(1);
  h.registry.Send(Event(v1::WATCH_EVENT_TYPE_BOOKMARK, "", 17));
  h.BreakStream(absl::UnavailableError("connection reset"), 1);
  REQUIRE(PollUntil([&] { return h.registry.watch_requests().size() == 2; }, kWait));
  const v1::WatchRequest resumed = h.registry.watch_requests()[1];
  CHECK_FALSE(resumed.include_snapshot());
  CHECK(resumed.after_revision() == 17);

  h.registry.Send(AliasEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, "churn", "production", 4, 18));
  const ServingPlan plan = h.AwaitPlan(2);
  CHECK(plan.revision == 18);
  CHECK(plan.models[1].primary_version == 4);
  CHECK(h.follower().connected());
}

TEST_CASE("RegistryFollower waits longer after each failed reconnect, up to the maximum") {
  Harness h;
  for (int i = 0; i < 5; ++i) h.registry.End(absl::UnavailableError("registry unreachable"));
  h.Start({}, {.initial = absl::Milliseconds(100), .max = absl::Milliseconds(400), .jitter = 0.2});
  // The longest each wait may be: doubling from 100 ms, capped at 400 ms, plus 20% jitter.
  const std::vector<absl::Duration> longest = {absl::Milliseconds(120), absl::Milliseconds(240),
                                               absl::Milliseconds(480), absl::Milliseconds(480)};
  for (size_t i = 0; i < longest.size(); ++i) {
    REQUIRE(h.clock.AwaitSleeps(static_cast<int64_t>(i) + 1, kWait));
    h.clock.Advance(longest[i]);
    REQUIRE(PollUntil([&] { return h.registry.watch_requests().size() == i + 2; }, kWait));
  }
  // A snapshot that applies resets the wait to the initial one.
  REQUIRE(h.clock.AwaitSleeps(5, kWait));
  h.SendSnapshot(kRegistry, 10);
  h.clock.Advance(absl::Milliseconds(480));
  h.AwaitPlan(1);
  h.registry.End(absl::UnavailableError("connection reset"));
  REQUIRE(h.clock.AwaitSleeps(6, kWait));
  h.clock.Advance(absl::Milliseconds(120));
  REQUIRE(PollUntil([&] { return h.registry.watch_requests().size() == 7; }, kWait));
}

TEST_CASE("RegistryFollower takes a fresh snapshot when its revision is no longer kept") {
  Harness h;
  h.SendSnapshot(kRegistry, 10);
  h.Start();
  CHECK(Names(h.AwaitPlan(1)) == std::vector<std::string>{"ads", "churn"});
  h.BreakStream(absl::UnavailableError("connection reset"), 1);
  h.registry.End(absl::OutOfRangeError("revision 10 is older than the registry keeps"));
  // The resync starts at once, without a backoff wait.
  REQUIRE(PollUntil([&] { return h.registry.watch_requests().size() == 3; }, kWait));
  const v1::WatchRequest resync = h.registry.watch_requests()[2];
  CHECK(resync.include_snapshot());
  CHECK(resync.after_revision() == 0);

  // The state is rebuilt from the new snapshot alone: ads is gone.
  h.SendSnapshot({{.name = "churn", .squad = "retention", .aliases = {{"production", 3}}}}, 50);
  const ServingPlan plan = h.AwaitPlan(2);
  CHECK(plan.revision == 50);
  CHECK(Names(plan) == std::vector<std::string>{"churn"});
  CHECK(plan.models[0].primary_version == 3);
}

TEST_CASE("RegistryFollower starts from the stored plan while the registry is down") {
  Harness h;
  ServingPlan stored;
  stored.revision = 7;
  ServedModelPlan& churn = stored.models.emplace_back();
  churn.model = "churn";
  churn.primary_version = 2;
  REQUIRE(h.store().Save(stored).ok());
  h.registry.End(absl::UnavailableError("registry unreachable"));

  h.Start();
  // Handed over before Start returns.
  REQUIRE(h.plan_count() == 1);
  const ServingPlan first = h.plan(0);
  CHECK(first.from_cache);
  CHECK(first.revision == 7);
  CHECK(first.models.at(0).primary_version == 2);
  CHECK(h.follower().revision() == 7);
  CHECK_FALSE(h.follower().snapshot_applied());
  REQUIRE(h.clock.AwaitSleeps(1, kWait));  // Backing off.
  CHECK_FALSE(h.follower().connected());

  // The registry comes back: its plan replaces the stored one, and is stored in turn.
  h.SendSnapshot(kRegistry, 12);
  h.clock.Advance(absl::Seconds(10));
  const ServingPlan live = h.AwaitPlan(2);
  CHECK_FALSE(live.from_cache);
  REQUIRE(PollUntil([&] { return h.follower().snapshot_applied(); }, kWait));
  REQUIRE(PollUntil(
      [&] {
        absl::StatusOr<std::optional<ServingPlan>> saved = h.store().Load();
        return saved.ok() && saved->has_value() && (*saved)->revision == 12;
      },
      kWait));
}

TEST_CASE("RegistryFollower retries a snapshot whose version records could not be read") {
  Harness h;
  h.registry.FailGetVersion(absl::UnavailableError("registry overloaded"), 1);
  h.SendSnapshot(kRegistry, 10);
  h.Start();
  REQUIRE(h.clock.AwaitSleeps(1, kWait));
  CHECK(h.plan_count() == 0);
  CHECK_FALSE(h.follower().snapshot_applied());

  h.SendSnapshot(kRegistry, 11);
  h.clock.Advance(absl::Seconds(10));
  CHECK(h.AwaitPlan(1).revision == 11);
  CHECK(h.registry.watch_requests().at(1).include_snapshot());
}

TEST_CASE("RegistryFollower hands the plan over even when a module cannot be fetched") {
  Harness h;
  h.AddVersion("churn", 9);
  h.registry.PutArtifact(core::Sha256Hex("module of churn v9"), "bytes that are not the module");
  h.SendSnapshot({{.name = "churn", .squad = "retention", .aliases = {{"production", 9}}}}, 10);
  h.Start();
  const ServingPlan plan = h.AwaitPlan(1);
  CHECK(plan.models.at(0).primary_version == 9);
  CHECK(h.registry.download_calls() == 1);
}

TEST_CASE("RegistryFollower stops at once, waiting or watching") {
  Harness h;
  SECTION("in a backoff wait") {
    h.registry.End(absl::UnavailableError("registry unreachable"));
    h.Start();
    REQUIRE(h.clock.AwaitSleeps(1, kWait));
  }
  SECTION("with a stream open") {
    h.SendSnapshot(kRegistry, 10);
    h.Start();
    h.AwaitPlan(1);
  }
  const absl::Time before = absl::Now();
  h.follower().Stop();
  CHECK(absl::Now() - before < absl::Seconds(5));
  CHECK_FALSE(h.follower().connected());
  h.follower().Stop();  // Idempotent.
}

TEST_CASE("RegistryFollower::Create names what is missing") {
  FakeRegistryPort registry;
  absl::Status no_registry =
      RegistryFollower::Create({.on_plan = [](const ServingPlan&) {}}).status();
  CHECK(no_registry.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(no_registry.message()), Catch::Contains("registry"));

  absl::Status no_on_plan = RegistryFollower::Create({.registry = &registry}).status();
  CHECK(no_on_plan.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(no_on_plan.message()), Catch::Contains("on_plan"));

  absl::Status bad_backoff =
      RegistryFollower::Create({.registry = &registry,
                                .on_plan = [](const ServingPlan&) {},
                                .backoff = {.initial = absl::ZeroDuration()}})
          .status();
  CHECK(bad_backoff.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad_backoff.message()), Catch::Contains("backoff"));
}

}  // namespace
}  // namespace fabrique::serving::testing
