// The registry's records with their audit trail and change feed: models and their errors,
// numbered immutable versions that need their artifacts, aliases (compare-and-set, archived
// versions refused, released on archive), one hash-chained audit entry per mutation that
// survives a reopen and exposes tampering, and a change feed that resumes without gap or
// duplicate and wakes waiting watchers.

#include "libs/registry/registry_store.h"

#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/kv/key_codec.h"
#include "tests/registry/registry_fixture.h"
#include "tests/util/test_util.h"

namespace fabrique::registry {
namespace {

using namespace registry_test;  // NOLINT: the fixture's vocabulary.

TEST_CASE("Models: created once, found by name, errors naming them", "[registry]") {
  Registry r;
  absl::StatusOr<v1::Model> created = r.store->CreateModel(Fraud(), Dana());
  REQUIRE(created.ok());
  CHECK(created->created_by().subject() == "dana");
  CHECK(created->latest_version() == 0);
  CHECK(r.store->CreateModel(Fraud(), Dana()).status().code() == absl::StatusCode::kAlreadyExists);
  v1::Model bad = Fraud();
  bad.set_name("Fraud Model");
  CHECK(r.store->CreateModel(bad, Dana()).status().code() == absl::StatusCode::kInvalidArgument);
  const absl::Status missing = r.store->GetModel("churn").status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.message(), "churn"));
}

TEST_CASE("Versions are numbered per model and need their artifacts", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  CHECK(r.store->RegisterVersion(Version(), Dana())->version() == 1);
  CHECK(r.store->RegisterVersion(Version(), Dana())->version() == 2);
  const absl::StatusOr<v1::ModelVersion> second = r.store->GetVersion("fraud", 2);
  REQUIRE(second.ok());
  CHECK(second->state() == v1::VERSION_STATE_ACTIVE);
  CHECK(second->registered_by().subject() == "dana");
  CHECK(r.store->GetModel("fraud")->latest_version() == 2);

  const int64_t revision = r.log->revision();
  const absl::Status refused = r.store->RegisterVersion(Version("bb"), Dana()).status();
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.message(), "bb"));
  CHECK(r.log->revision() == revision);  // Nothing written, not even a trail.
  CHECK(r.store->GetModel("fraud")->latest_version() == 2);

  CHECK(r.store->GetVersion("fraud", 9).status().code() == absl::StatusCode::kNotFound);
  v1::ModelVersion orphan = Version();
  orphan.set_model("churn");
  CHECK(r.store->RegisterVersion(orphan, Dana()).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Aliases: compare-and-set, never onto an archived version, released on archive",
          "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  CHECK(r.store->GetAlias("fraud", "production")->version() == 1);

  const absl::Status lost = r.store->SetAlias("fraud", "production", 2, Dana(), 2).status();
  CHECK(lost.code() == absl::StatusCode::kAborted);
  CHECK(absl::StrContains(lost.message(), "holds version 1"));
  REQUIRE(r.store->SetAlias("fraud", "production", 2, Dana(), 1).ok());
  REQUIRE(r.store->SetAlias("fraud", "candidate", 2, Dana()).ok());
  CHECK(r.store->GetModel("fraud")->aliases().at("production") == 2);

  REQUIRE(r.store->ArchiveVersion("fraud", 2, Dana()).ok());
  CHECK(r.store->GetVersion("fraud", 2)->state() == v1::VERSION_STATE_ARCHIVED);
  CHECK(r.store->GetModel("fraud")->aliases().empty());
  CHECK(r.store->GetAlias("fraud", "candidate").status().code() == absl::StatusCode::kNotFound);
  const absl::Status archived = r.store->SetAlias("fraud", "production", 2, Dana()).status();
  CHECK(archived.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(archived.message(), "archived"));
  CHECK(r.store->SetAlias("fraud", "Prod!", 1, Dana()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Every mutation leaves one chained audit entry, across restarts", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  r.Reopen();  // The chain goes on from the stored head.
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  std::vector<v1::AuditEntry> entries;
  REQUIRE(r.log
              ->AuditEntries(0, 0,
                             [&](const v1::AuditEntry& e) {
                               entries.push_back(e);
                               return true;
                             })
              .ok());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].action() == "model.create");
  CHECK(entries[1].target() == "models/fraud/versions/1");
  CHECK(entries[2].action() == "alias.set");
  CHECK(absl::StrContains(entries[2].after_json(), "\"version\":\"1\""));
  CHECK(entries[2].actor().subject() == "dana");
  CHECK(entries[2].prev_hash() == entries[1].hash());
  absl::StatusOr<AuditChainResult> verified = r.log->VerifyAudit(0, 0);
  REQUIRE(verified.ok());
  CHECK(verified->valid);
  CHECK(verified->entries_checked == 3);
  CHECK(r.log->VerifyAudit(2, 3)->entries_checked == 2);

  // Someone with disk access rewrites history: the verification names the entry.
  v1::AuditEntry forged = entries[1];
  forged.mutable_actor()->set_subject("mallory");
  const std::string key = kv::KeyBuilder().AddString("a").AddInt64(2).key();
  REQUIRE(r.kv->Put(*r.kv->Family("registry_log"), key, forged.SerializeAsString()).ok());
  verified = r.log->VerifyAudit(0, 0);
  CHECK_FALSE(verified->valid);
  CHECK(verified->first_bad_sequence == 2);
}

TEST_CASE("The change feed resumes without gap or duplicate and wakes watchers", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
  REQUIRE(r.store->ArchiveVersion("fraud", 1, Dana()).ok());  // Two changes: alias, version.

  const std::vector<v1::WatchEvent> all = EventsAfter(*r.log, 0);
  REQUIRE(all.size() == 5);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].revision() == int64_t(i) + 1);
  CHECK(all[2].type() == v1::WATCH_EVENT_TYPE_ALIAS_SET);
  CHECK(all[3].type() == v1::WATCH_EVENT_TYPE_ALIAS_DELETED);
  CHECK(all[3].previous_version() == 1);
  CHECK(all[4].type() == v1::WATCH_EVENT_TYPE_VERSION_ARCHIVED);
  CHECK(all[4].actor().subject() == "dana");

  // A watcher that saw revision 2 gets exactly 3, 4, 5 — also after a restart.
  r.Reopen();
  const std::vector<v1::WatchEvent> resumed = EventsAfter(*r.log, 2);
  REQUIRE(resumed.size() == 3);
  CHECK(resumed[0].revision() == 3);
  CHECK(r.log->revision() == 5);
  CHECK(EventsAfter(*r.log, 5).empty());

  // A waiting watcher wakes when the next change commits: the change is made only once the
  // watcher is provably waiting, and the watcher returns long before its timeout.
  int64_t woken_at = 0;  // Catch2's assertions are not thread-safe: checked after join.
  absl::Duration waited;
  std::thread watcher([&r, &woken_at, &waited] {
    const absl::Time start = absl::Now();
    woken_at = r.log->WaitForRevisionAfter(5, absl::Seconds(60));
    waited = absl::Now() - start;
  });
  const bool waiting =
      fabrique::testing::PollUntil([&r] { return r.log->waiters() == 1; }, absl::Seconds(10));
  const bool registered = waiting && r.store->RegisterVersion(Version(), Dana()).ok();
  if (!registered) r.log->Interrupt();  // Frees the watcher, so the failure below is reported.
  watcher.join();
  REQUIRE(waiting);
  REQUIRE(registered);
  CHECK(woken_at == 6);
  CHECK(waited < absl::Seconds(30));  // Woken by the commit, not by the 60 s timeout.
  CHECK(r.log->waiters() == 0);
  CHECK(r.log->WaitForRevisionAfter(6, absl::Milliseconds(1)) == 6);  // Times out.
}

TEST_CASE("Governed promotion: gates refuse, approvals complete, the alias moves once",
          "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.78);  // v1
  RegisterWithAuc(r, 0.86);  // v2
  v1::PromotionPolicy policy;
  policy.set_model("fraud");
  policy.set_alias("production");
  v1::MetricThreshold* gate = policy.add_metric_gates();
  gate->set_metric("auc");
  gate->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  gate->set_value(0.8);
  v1::ApprovalGate* approvals = policy.add_approval_gates();
  approvals->set_role("design-authority");
  approvals->set_required_approvals(2);
  REQUIRE(r.store->SetPromotionPolicy(policy, Dana()).ok());

  // A gated alias is not moved directly.
  const absl::Status direct = r.store->SetAlias("fraud", "production", 2, Dana()).status();
  CHECK(direct.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(direct.message(), "RequestPromotion"));

  // v1 fails the metric gate: refused, explained, stored as REFUSED.
  const absl::StatusOr<v1::PromotionRequest> refused =
      r.store->RequestPromotion("fraud", "production", 1, "try", Dana());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.status().message(), "auc 0.78 not >= 0.8"));

  // A dry run of v2 evaluates without storing.
  const int64_t before_dry_run = r.log->revision();
  absl::StatusOr<v1::PromotionRequest> dry =
      r.store->RequestPromotion("fraud", "production", 2, "", Dana(), /*dry_run=*/true);
  REQUIRE(dry.ok());
  CHECK(dry->state() == v1::PROMOTION_STATE_PENDING);
  CHECK(r.log->revision() == before_dry_run);
  CHECK(r.store->GetPromotionRequest(dry->id()).status().code() == absl::StatusCode::kNotFound);

  absl::StatusOr<v1::PromotionRequest> request =
      r.store->RequestPromotion("fraud", "production", 2, "better auc", Dana());
  REQUIRE(request.ok());
  CHECK(request->state() == v1::PROMOTION_STATE_PENDING);
  REQUIRE(request->gates_size() == 2);
  CHECK(request->gates(0).state() == v1::GATE_STATE_PASSED);
  CHECK(request->gates(1).state() == v1::GATE_STATE_PENDING);

  request = r.store->DecidePromotion(request->id(), true, "ok", Reviewer("ada"));
  REQUIRE(request.ok());
  CHECK(request->state() == v1::PROMOTION_STATE_PENDING);
  CHECK(r.store->GetAlias("fraud", "production").status().code() == absl::StatusCode::kNotFound);
  request = r.store->DecidePromotion(request->id(), true, "ok", Reviewer("bob"));
  REQUIRE(request.ok());
  CHECK(request->state() == v1::PROMOTION_STATE_COMPLETED);
  const absl::StatusOr<v1::Alias> moved = r.store->GetAlias("fraud", "production");
  REQUIRE(moved.ok());
  CHECK(moved->version() == 2);
  CHECK(moved->promotion_request_id() == request->id());
  CHECK(r.store->GetPromotionRequest(request->id())->decisions_size() == 2);

  // A decided request takes no more decisions.
  CHECK(r.store->DecidePromotion(request->id(), true, "", Reviewer("cyd")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // The trail and the feed saw every step, and the chain holds.
  CHECK(r.log->VerifyAudit(0, 0)->valid);
  bool saw_request_change = false;
  for (const v1::WatchEvent& e : EventsAfter(*r.log, 0)) {
    saw_request_change |= e.type() == v1::WATCH_EVENT_TYPE_PROMOTION_REQUEST_CHANGED &&
                          e.promotion_request().state() == v1::PROMOTION_STATE_COMPLETED;
  }
  CHECK(saw_request_change);
}

TEST_CASE("A pending request is superseded when its alias moves otherwise; a rejection rejects",
          "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  RegisterWithAuc(r, 0.9);
  v1::PromotionPolicy policy;
  policy.set_model("fraud");
  policy.set_alias("candidate");
  policy.add_approval_gates()->set_role("design-authority");
  policy.mutable_approval_gates(0)->set_required_approvals(1);
  REQUIRE(r.store->SetPromotionPolicy(policy, Dana()).ok());
  const std::string first = r.store->RequestPromotion("fraud", "candidate", 1, "", Dana())->id();
  const std::string second = r.store->RequestPromotion("fraud", "candidate", 2, "", Dana())->id();
  REQUIRE(r.store->DecidePromotion(first, true, "", Reviewer("ada"))->state() ==
          v1::PROMOTION_STATE_COMPLETED);
  // The alias moved under the second request: approving it now would overrule that blindly.
  CHECK(r.store->DecidePromotion(second, true, "", Reviewer("ada"))->state() ==
        v1::PROMOTION_STATE_SUPERSEDED);
  CHECK(r.store->GetAlias("fraud", "candidate")->version() == 1);

  const std::string third = r.store->RequestPromotion("fraud", "candidate", 2, "", Dana())->id();
  CHECK(r.store->DecidePromotion(third, false, "not yet", Reviewer("ada"))->state() ==
        v1::PROMOTION_STATE_REJECTED);
  CHECK(r.store->GetAlias("fraud", "candidate")->version() == 1);
}

TEST_CASE("A protected alias is moved only by its roles", "[registry][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  v1::PromotionPolicy policy;
  policy.set_model("fraud");
  policy.set_alias("champion");
  policy.add_allowed_roles("release-manager");
  REQUIRE(r.store->SetPromotionPolicy(policy, Dana()).ok());
  const absl::Status denied = r.store->SetAlias("fraud", "champion", 1, Dana()).status();
  CHECK(denied.code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(denied.message(), "release-manager"));
  v1::Principal rita;
  rita.set_subject("rita");
  rita.add_roles("release-manager");
  CHECK(r.store->SetAlias("fraud", "champion", 1, rita).ok());
}

TEST_CASE("Models list by filters, page by page; aliases list and delete", "[registry]") {
  Registry r;
  for (const char* name : {"churn", "fraud", "fraud-eu", "upsell"}) {
    v1::Model model;
    model.set_name(name);
    model.set_owner_squad(absl::StartsWith(name, "fraud") ? "risk" : "growth");
    (*model.mutable_tags())["tier"] = std::string(name) == "fraud" ? "gold" : "silver";
    REQUIRE(r.store->CreateModel(model, Dana()).ok());
  }
  v1::ListModelsRequest request;
  request.set_page_size(3);
  absl::StatusOr<v1::ListModelsResponse> page = r.store->ListModels(request);
  REQUIRE(page.ok());
  REQUIRE(page->models_size() == 3);
  CHECK(page->models(0).name() == "churn");
  CHECK(page->next_page_token() == "upsell");
  request.set_page_token(page->next_page_token());
  page = r.store->ListModels(request);
  REQUIRE(page->models_size() == 1);
  CHECK(page->next_page_token().empty());

  v1::ListModelsRequest filtered;
  filtered.set_owner_squad("risk");
  CHECK(r.store->ListModels(filtered)->models_size() == 2);
  filtered.add_tags("tier=gold");
  REQUIRE(r.store->ListModels(filtered)->models_size() == 1);
  v1::ListModelsRequest prefix;
  prefix.set_name_prefix("fraud-");
  REQUIRE(r.store->ListModels(prefix)->models_size() == 1);
  CHECK(r.store->ListModels(prefix)->models(0).name() == "fraud-eu");

  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "candidate", 1, Dana()).ok());
  REQUIRE(r.store->SetAlias("fraud", "b-test", 1, Dana()).ok());
  absl::StatusOr<std::vector<v1::Alias>> aliases = r.store->ListAliases("fraud");
  REQUIRE(aliases->size() == 2);
  CHECK((*aliases)[0].name() == "b-test");
  REQUIRE(r.store->DeleteAlias("fraud", "b-test", Dana()).ok());
  CHECK(r.store->ListAliases("fraud")->size() == 1);
  CHECK(r.store->GetModel("fraud")->aliases().count("b-test") == 0);
  CHECK(r.store->DeleteAlias("fraud", "b-test", Dana()).code() == absl::StatusCode::kNotFound);
  CHECK(EventsAfter(*r.log, 0).back().type() == v1::WATCH_EVENT_TYPE_ALIAS_DELETED);
}

TEST_CASE("Versions list newest first, filtered and paged across models", "[registry]") {
  Registry r;
  for (const char* name : {"churn", "fraud"}) {
    v1::Model model;
    model.set_name(name);
    model.set_owner_squad("risk");
    REQUIRE(r.store->CreateModel(model, Dana()).ok());
  }
  RegisterWithAuc(r, 0.70);  // fraud v1
  RegisterWithAuc(r, 0.85);  // fraud v2
  RegisterWithAuc(r, 0.90);  // fraud v3
  v1::ModelVersion churn = Version();
  churn.set_model("churn");
  (*churn.mutable_tags())["team"] = "retention";
  REQUIRE(r.store->RegisterVersion(churn, Dana()).ok());
  REQUIRE(r.store->ArchiveVersion("fraud", 3, Dana()).ok());

  v1::ListVersionsRequest request;
  request.set_page_size(2);
  absl::StatusOr<v1::ListVersionsResponse> page = r.store->ListVersions(request);
  REQUIRE(page.ok());
  REQUIRE(page->versions_size() == 2);  // churn v1, fraud v2 (v3 archived).
  CHECK(page->versions(0).model() == "churn");
  CHECK(page->versions(1).version() == 2);
  REQUIRE(page->next_page_token() == "fraud:1");
  request.set_page_token(page->next_page_token());
  page = r.store->ListVersions(request);
  REQUIRE(page->versions_size() == 1);
  CHECK(page->versions(0).version() == 1);
  CHECK(page->next_page_token().empty());

  v1::ListVersionsRequest search;
  search.add_models("fraud");
  search.set_include_archived(true);
  v1::MetricThreshold* auc = search.add_metric_filters();
  auc->set_metric("auc");
  auc->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  auc->set_value(0.8);
  page = r.store->ListVersions(search);
  REQUIRE(page->versions_size() == 2);
  CHECK(page->versions(0).version() == 3);
  CHECK(page->versions(1).version() == 2);

  v1::ListVersionsRequest tagged;
  tagged.add_tags("team=retention");
  REQUIRE(r.store->ListVersions(tagged)->versions_size() == 1);
  CHECK(r.store->ListVersions(tagged)->versions(0).model() == "churn");
  v1::ListVersionsRequest bad;
  bad.set_page_token("nonsense");
  CHECK(r.store->ListVersions(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Models update by field; versions are deleted only once archived", "[registry]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  v1::Model update;
  update.set_name("fraud");
  update.set_description("card fraud, EU");
  update.set_owner_squad("ignored: not in the paths");
  absl::StatusOr<v1::Model> updated = r.store->UpdateModel(update, {"description"}, Dana());
  REQUIRE(updated.ok());
  CHECK(updated->description() == "card fraud, EU");
  CHECK(updated->owner_squad() == "risk");
  const absl::Status bad = r.store->UpdateModel(update, {"latest_version"}, Dana()).status();
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad.message(), "latest_version"));

  REQUIRE(r.store->RegisterVersion(Version(), Dana()).ok());
  const absl::Status active = r.store->DeleteVersion("fraud", 1, Dana());
  CHECK(active.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(active.message(), "archive it first"));
  REQUIRE(r.store->ArchiveVersion("fraud", 1, Dana()).ok());
  REQUIRE(r.store->DeleteVersion("fraud", 1, Dana()).ok());
  CHECK(r.store->GetVersion("fraud", 1).status().code() == absl::StatusCode::kNotFound);
  // Numbers are never reused.
  CHECK(r.store->RegisterVersion(Version(), Dana())->version() == 2);
  CHECK(EventsAfter(*r.log, 0).size() == 6);
  // Listings step over the deleted number.
  v1::ListVersionsRequest all;
  all.set_include_archived(true);
  const absl::StatusOr<v1::ListVersionsResponse> listed = r.store->ListVersions(all);
  REQUIRE(listed.ok());
  REQUIRE(listed->versions_size() == 1);
  CHECK(listed->versions(0).version() == 2);
}

}  // namespace
}  // namespace fabrique::registry
