// What inference servers and careful clients rely on: traffic policies (defaults, bad input,
// a candidate required for canary or shadow, protected primaries), listings of policies and
// promotion requests, idempotent retries of RegisterVersion and RequestPromotion, and the state
// snapshot a new watcher starts from, exact at its revision.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/registry/registry_store.h"
#include "tests/registry/registry_fixture.h"

namespace fabrique::registry {
namespace {

using namespace registry_test;  // NOLINT: the fixture's vocabulary.

v1::TrafficPolicy Canary(double percent) {
  v1::TrafficPolicy policy;
  policy.set_model("fraud");
  policy.set_canary_percent(percent);
  return policy;
}

v1::PromotionPolicy NeedsApproval(const std::string& alias) {
  v1::PromotionPolicy policy;
  policy.set_model("fraud");
  policy.set_alias(alias);
  v1::ApprovalGate* gate = policy.add_approval_gates();
  gate->set_role("design-authority");
  gate->set_required_approvals(1);
  return policy;
}

TEST_CASE("Traffic policy: defaults, bad input refused, candidate needed for a canary",
          "[registry][traffic]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());

  const absl::StatusOr<v1::TrafficPolicy> initial = r.store->GetTrafficPolicy("fraud");
  REQUIRE(initial.ok());
  CHECK(initial->primary_alias() == "production");
  CHECK(initial->candidate_alias() == "candidate");
  CHECK(initial->canary_percent() == 0);
  CHECK(r.store->GetTrafficPolicy("churn").status().code() == absl::StatusCode::kNotFound);

  for (double bad : {-1.0, 100.5, std::nan("")}) {
    const absl::Status refused = r.store->SetTrafficPolicy(Canary(bad), Dana()).status();
    CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(refused.message(), "between 0 and 100"));
  }
  v1::TrafficPolicy same = Canary(0);
  same.set_primary_alias("blue");
  same.set_candidate_alias("blue");
  CHECK(r.store->SetTrafficPolicy(same, Dana()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  v1::TrafficPolicy unknown = Canary(0);
  unknown.set_model("churn");
  CHECK(r.store->SetTrafficPolicy(unknown, Dana()).status().code() == absl::StatusCode::kNotFound);

  // No candidate yet: a canary would route to nothing.
  const absl::Status nowhere = r.store->SetTrafficPolicy(Canary(10), Dana()).status();
  CHECK(nowhere.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(nowhere.message(), "'candidate'"));
  v1::TrafficPolicy shadow = Canary(0);
  shadow.set_shadow(true);
  CHECK(r.store->SetTrafficPolicy(shadow, Dana()).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  REQUIRE(r.store->SetAlias("fraud", "candidate", 1, Dana()).ok());
  const int64_t before = r.log->revision();
  const absl::StatusOr<v1::TrafficPolicy> set = r.store->SetTrafficPolicy(Canary(10), Dana());
  REQUIRE(set.ok());
  CHECK(set->updated_by().subject() == "dana");
  CHECK(set->canary_routing() == v1::CANARY_ROUTING_ENTITY_HASH);
  CHECK(r.store->GetTrafficPolicy("fraud")->canary_percent() == 10);
  const std::vector<v1::WatchEvent> events = EventsAfter(*r.log, before);
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == v1::WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED);
  CHECK(events[0].traffic_policy().canary_percent() == 10);
  v1::AuditEntry last;
  REQUIRE(r.log
              ->AuditEntries(0, 0,
                             [&](const v1::AuditEntry& e) {
                               last = e;
                               return true;
                             })
              .ok());
  CHECK(last.action() == "traffic.set");
  CHECK(absl::StrContains(last.before_json(), "production"));
}

TEST_CASE("Traffic policy: a protected primary alias's traffic moves only by its roles",
          "[registry][traffic]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "candidate", 1, Dana()).ok());
  v1::PromotionPolicy guarded;
  guarded.set_model("fraud");
  guarded.set_alias("production");
  guarded.add_allowed_roles("release-manager");
  REQUIRE(r.store->SetPromotionPolicy(guarded, Dana()).ok());
  const absl::Status denied = r.store->SetTrafficPolicy(Canary(5), Dana()).status();
  CHECK(denied.code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(denied.message(), "release-manager"));
  v1::Principal rita;
  rita.set_subject("rita");
  rita.add_roles("release-manager");
  CHECK(r.store->SetTrafficPolicy(Canary(5), rita).ok());

  // Nor can the traffic be routed around it by naming an unprotected alias the new primary.
  REQUIRE(r.store->SetAlias("fraud", "shadowy", 1, Dana()).ok());
  v1::TrafficPolicy around = Canary(0);
  around.set_primary_alias("shadowy");
  CHECK(r.store->SetTrafficPolicy(around, Dana()).status().code() ==
        absl::StatusCode::kPermissionDenied);
  v1::TrafficPolicy nowhere = Canary(0);
  nowhere.set_primary_alias("blue");
  const absl::Status empty_primary = r.store->SetTrafficPolicy(nowhere, rita).status();
  CHECK(empty_primary.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(empty_primary.message(), "'blue'"));
}

TEST_CASE("A policy change supersedes the alias's pending requests", "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  REQUIRE(r.store->SetPromotionPolicy(NeedsApproval("production"), Dana()).ok());
  REQUIRE(r.store->SetPromotionPolicy(NeedsApproval("candidate"), Dana()).ok());
  const std::string production =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana())->id();
  const std::string candidate =
      r.store->RequestPromotion("fraud", "candidate", 1, "", Dana())->id();
  v1::PromotionPolicy stricter = NeedsApproval("production");
  stricter.mutable_approval_gates(0)->set_required_approvals(2);
  REQUIRE(r.store->SetPromotionPolicy(stricter, Dana()).ok());
  CHECK(r.store->GetPromotionRequest(production)->state() == v1::PROMOTION_STATE_SUPERSEDED);
  CHECK(r.store->GetPromotionRequest(candidate)->state() == v1::PROMOTION_STATE_PENDING);
  CHECK(r.store->DecidePromotion(production, true, "", Reviewer("ada")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Promotion policies and requests list, filtered and paged", "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  v1::Model other = Fraud();
  other.set_name("fraud2");  // Shares a prefix: must not leak into fraud's listings.
  REQUIRE(r.store->CreateModel(other, Dana()).ok());
  RegisterWithAuc(r, 0.9);
  RegisterWithAuc(r, 0.9);
  REQUIRE(r.store->SetPromotionPolicy(NeedsApproval("production"), Dana()).ok());
  REQUIRE(r.store->SetPromotionPolicy(NeedsApproval("candidate"), Dana()).ok());
  v1::PromotionPolicy other_policy = NeedsApproval("production");
  other_policy.set_model("fraud2");
  REQUIRE(r.store->SetPromotionPolicy(other_policy, Dana()).ok());

  const absl::StatusOr<std::vector<v1::PromotionPolicy>> policies =
      r.store->ListPromotionPolicies("fraud");
  REQUIRE(policies.ok());
  REQUIRE(policies->size() == 2);
  CHECK((*policies)[0].alias() == "candidate");
  CHECK((*policies)[1].alias() == "production");
  CHECK(r.store->ListPromotionPolicies("churn").status().code() == absl::StatusCode::kNotFound);

  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(
        r.store
            ->RequestPromotion("fraud", i % 2 ? "candidate" : "production", 1 + i % 2, "", Dana())
            ->id());
  }
  REQUIRE(r.store->DecidePromotion(ids[0], false, "no", Reviewer("ada")).ok());

  v1::ListPromotionRequestsRequest request;
  request.set_model("fraud");
  request.set_page_size(2);
  std::vector<std::string> seen;
  do {
    const absl::StatusOr<v1::ListPromotionRequestsResponse> page =
        r.store->ListPromotionRequests(request);
    REQUIRE(page.ok());
    CHECK(page->requests_size() <= 2);
    for (const v1::PromotionRequest& found : page->requests()) seen.push_back(found.id());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  CHECK(seen == ids);  // All of them, oldest first, each once.

  v1::ListPromotionRequestsRequest pending;
  pending.set_model("fraud");
  pending.set_alias("production");
  pending.set_state(v1::PROMOTION_STATE_PENDING);
  const absl::StatusOr<v1::ListPromotionRequestsResponse> open =
      r.store->ListPromotionRequests(pending);
  REQUIRE(open.ok());
  REQUIRE(open->requests_size() == 2);  // ids[2] and ids[4]; ids[0] was rejected.
  CHECK(open->requests(0).id() == ids[2]);
  CHECK(open->requests(1).id() == ids[4]);
  v1::ListPromotionRequestsRequest unknown;
  unknown.set_model("churn");
  CHECK(r.store->ListPromotionRequests(unknown).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("A retried RegisterVersion returns the first registration, once", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  const absl::StatusOr<v1::ModelVersion> first =
      r.store->RegisterVersion(Version(), Dana(), "run-7-register");
  REQUIRE(first.ok());
  const int64_t revision = r.log->revision();
  const absl::StatusOr<v1::ModelVersion> retry =
      r.store->RegisterVersion(Version(), Dana(), "run-7-register");
  REQUIRE(retry.ok());
  CHECK(retry->version() == first->version());
  CHECK(r.log->revision() == revision);  // Nothing new was recorded.
  r.Reopen();                            // The key survives a restart.
  CHECK(r.store->RegisterVersion(Version(), Dana(), "run-7-register")->version() == 1);
  CHECK(r.store->GetModel("fraud")->latest_version() == 1);
  CHECK(r.store->RegisterVersion(Version(), Dana(), "run-8-register")->version() == 2);
  CHECK(r.store->RegisterVersion(Version(), Dana())->version() == 3);  // No key: always new.

  v1::Model other = Fraud();
  other.set_name("churn");
  REQUIRE(r.store->CreateModel(other, Dana()).ok());
  v1::ModelVersion elsewhere = Version();
  elsewhere.set_model("churn");
  const absl::Status reused =
      r.store->RegisterVersion(elsewhere, Dana(), "run-7-register").status();
  CHECK(reused.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(reused.message(), "run-7-register"));
  CHECK(r.store->GetModel("churn")->latest_version() == 0);
}

TEST_CASE("A retried RequestPromotion answers with the first request as it stands",
          "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  RegisterWithAuc(r, 0.7);
  v1::PromotionPolicy policy = NeedsApproval("production");
  v1::MetricThreshold* auc = policy.add_metric_gates();
  auc->set_metric("auc");
  auc->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  auc->set_value(0.8);
  REQUIRE(r.store->SetPromotionPolicy(policy, Dana()).ok());

  const absl::StatusOr<v1::PromotionRequest> first =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana(), false, "ship-v1");
  REQUIRE(first.ok());
  REQUIRE(r.store->DecidePromotion(first->id(), true, "", Reviewer("ada")).ok());
  const absl::StatusOr<v1::PromotionRequest> retry =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana(), false, "ship-v1");
  REQUIRE(retry.ok());
  CHECK(retry->id() == first->id());
  CHECK(retry->state() == v1::PROMOTION_STATE_COMPLETED);  // As it stands now.
  v1::ListPromotionRequestsRequest all;
  CHECK(r.store->ListPromotionRequests(all)->requests_size() == 1);

  // A different promotion under a used key is refused.
  CHECK(r.store->RequestPromotion("fraud", "production", 2, "", Dana(), false, "ship-v1")
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  // A refused request, retried, is refused again with the same explanation.
  const absl::Status refused =
      r.store->RequestPromotion("fraud", "production", 2, "", Dana(), false, "ship-v2").status();
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  const absl::Status again =
      r.store->RequestPromotion("fraud", "production", 2, "", Dana(), false, "ship-v2").status();
  CHECK(again.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(again.message() == refused.message());
  CHECK(r.store->ListPromotionRequests(all)->requests_size() == 2);
}

TEST_CASE("A state snapshot lists models, aliases and policies at its exact revision",
          "[registry][watch]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  v1::Model other = Fraud();
  other.set_name("churn");
  REQUIRE(r.store->CreateModel(other, Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "candidate", 2, Dana()).ok());
  REQUIRE(r.store->SetPromotionPolicy(NeedsApproval("production"), Dana()).ok());
  REQUIRE(r.store->SetTrafficPolicy(Canary(20), Dana()).ok());

  const absl::StatusOr<RegistryStore::StateSnapshot> all = r.store->SnapshotState({});
  REQUIRE(all.ok());
  CHECK(all->revision == r.log->revision());
  std::vector<std::string> kinds;
  for (const v1::WatchEvent& event : all->events) {
    CHECK(event.snapshot());
    CHECK(event.revision() == all->revision);
    kinds.push_back(event.model() + ":" + v1::WatchEventType_Name(event.type()));
  }
  const std::vector<std::string> expected = {
      "churn:WATCH_EVENT_TYPE_MODEL_CREATED",
      "churn:WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED",
      "fraud:WATCH_EVENT_TYPE_MODEL_CREATED",
      "fraud:WATCH_EVENT_TYPE_ALIAS_SET",
      "fraud:WATCH_EVENT_TYPE_ALIAS_SET",
      "fraud:WATCH_EVENT_TYPE_PROMOTION_POLICY_CHANGED",
      "fraud:WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED",
  };
  CHECK(kinds == expected);
  CHECK(all->events[3].alias().name() == "candidate");
  CHECK(all->events[3].alias().version() == 2);
  CHECK(all->events[4].alias().name() == "production");
  CHECK(all->events[6].traffic_policy().canary_percent() == 20);

  // Watching one model, and one not created yet (its creation will come as a change).
  const absl::StatusOr<RegistryStore::StateSnapshot> one =
      r.store->SnapshotState({"churn", "later"});
  REQUIRE(one.ok());
  CHECK(one->events.size() == 2);
}

TEST_CASE("Only reviewers decide; the requester withdraws; the approver moves the alias",
          "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  RegisterWithAuc(r, 0.9);
  REQUIRE(r.store->SetPromotionPolicy(NeedsApproval("production"), Dana()).ok());
  const std::string id = r.store->RequestPromotion("fraud", "production", 1, "", Dana())->id();

  // Neither the requester nor a bystander approves or rejects without the gate's role.
  v1::Principal bystander;
  bystander.set_subject("bob");
  bystander.add_roles("data-scientist");
  for (const v1::Principal& who : {Dana(), bystander}) {
    const absl::Status approve = r.store->DecidePromotion(id, true, "", who).status();
    CHECK(approve.code() == absl::StatusCode::kPermissionDenied);
    CHECK(absl::StrContains(approve.message(), "design-authority"));
  }
  CHECK(r.store->DecidePromotion(id, false, "", bystander).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(r.store->GetPromotionRequest(id)->decisions_size() == 0);

  // The reviewer's approval completes it, and the alias records the reviewer as its mover.
  REQUIRE(r.store->DecidePromotion(id, true, "ok", Reviewer("ada"))->state() ==
          v1::PROMOTION_STATE_COMPLETED);
  const absl::StatusOr<v1::Alias> moved = r.store->GetAlias("fraud", "production");
  REQUIRE(moved.ok());
  CHECK(moved->updated_by().subject() == "ada");
  CHECK(moved->promotion_request_id() == id);

  // Promoting the version the alias holds already is refused, and opens nothing.
  const absl::Status again =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana()).status();
  CHECK(again.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(again.message(), "already holds version 1"));

  // The requester withdraws a pending request: CANCELLED, audited as such.
  const std::string second = r.store->RequestPromotion("fraud", "production", 2, "", Dana())->id();
  const absl::StatusOr<v1::PromotionRequest> withdrawn =
      r.store->DecidePromotion(second, false, "wrong one", Dana());
  REQUIRE(withdrawn.ok());
  CHECK(withdrawn->state() == v1::PROMOTION_STATE_CANCELLED);
  CHECK(r.store->GetAlias("fraud", "production")->version() == 1);
  v1::AuditEntry last;
  REQUIRE(r.log
              ->AuditEntries(0, 0,
                             [&](const v1::AuditEntry& e) {
                               last = e;
                               return true;
                             })
              .ok());
  CHECK(last.action() == "promotion.cancel");

  // A dry run stores nothing, so it has no id to give.
  const absl::StatusOr<v1::PromotionRequest> dry =
      r.store->RequestPromotion("fraud", "production", 2, "", Dana(), /*dry_run=*/true);
  REQUIRE(dry.ok());
  CHECK(dry->id().empty());
}

TEST_CASE("Versions show their aliases, record sizes from the store, name artifacts once",
          "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  v1::ModelVersion wrong_size = Version();
  wrong_size.mutable_artifacts(0)->mutable_artifact()->set_size_bytes(1000);
  const absl::Status refused = r.store->RegisterVersion(wrong_size, Dana()).status();
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(refused.message(), "is 3 bytes, not the 1000"));
  v1::ModelVersion twice = Version();
  *twice.add_artifacts() = twice.artifacts(0);
  CHECK(r.store->RegisterVersion(twice, Dana()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(r.store->GetModel("fraud")->latest_version() == 0);

  const absl::StatusOr<v1::ModelVersion> registered = r.store->RegisterVersion(Version(), Dana());
  REQUIRE(registered.ok());
  CHECK(registered->artifacts(0).artifact().size_bytes() == 3);  // From the store.
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana(), 0, "first release").ok());
  REQUIRE(r.store->SetAlias("fraud", "candidate", 1, Dana()).ok());
  const absl::StatusOr<v1::ModelVersion> read = r.store->GetVersion("fraud", 1);
  REQUIRE(read.ok());
  CHECK(std::vector<std::string>(read->aliases().begin(), read->aliases().end()) ==
        std::vector<std::string>{"candidate", "production"});
  v1::ListVersionsRequest all;
  CHECK(r.store->ListVersions(all)->versions(0).aliases_size() == 2);

  // Archiving records its time and reason, releases the aliases, and stores no alias list.
  const absl::StatusOr<v1::ModelVersion> archived =
      r.store->ArchiveVersion("fraud", 1, Dana(), "leaks the label");
  REQUIRE(archived.ok());
  CHECK(archived->has_archive_time());
  CHECK(archived->aliases_size() == 0);
  CHECK(r.store->GetVersion("fraud", 1)->aliases_size() == 0);
  std::vector<v1::AuditEntry> entries;
  REQUIRE(r.log
              ->AuditEntries(0, 0,
                             [&](const v1::AuditEntry& e) {
                               entries.push_back(e);
                               return true;
                             })
              .ok());
  std::vector<std::string> reasons;
  for (const v1::AuditEntry& e : entries) {
    if (!e.reason().empty()) reasons.push_back(e.action() + ": " + e.reason());
  }
  CHECK(reasons ==
        std::vector<std::string>{"alias.set: first release", "version.archive: leaks the label"});
  CHECK(r.log->VerifyAudit(0, 0)->valid);  // Reasons are sealed into the chain.
}

}  // namespace
}  // namespace fabrique::registry
