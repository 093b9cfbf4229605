// The design authority's levers on the registry: evaluations appended to registered versions
// (signed, dated, audited, read by promotion gates), and standards checked on every promotion to
// the alias they govern, factory-wide or by entity, besides each model's own policy.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/registry/registry_store.h"
#include "tests/registry/registry_fixture.h"

namespace fabrique::registry {
namespace {

using namespace registry_test;  // NOLINT: the fixture's vocabulary.

v1::VersionEvaluation Capacity(double p99_ms) {
  v1::VersionEvaluation evaluation;
  evaluation.set_kind("capacity");
  v1::Metric* metric = evaluation.add_metrics();
  metric->set_name("serving_p99_ms");
  metric->set_value(p99_ms);
  (*evaluation.mutable_params())["batch_size"] = "32";
  evaluation.set_note("H100, 8 instances");
  return evaluation;
}

v1::MetricThreshold Threshold(const std::string& metric, v1::ComparisonOp op, double value) {
  v1::MetricThreshold threshold;
  threshold.set_metric(metric);
  threshold.set_op(op);
  threshold.set_value(value);
  return threshold;
}

v1::Standard MinAuc(double floor, const std::string& entity = "") {
  v1::Standard standard;
  standard.set_name("min-auc");
  standard.set_entity(entity);
  *standard.add_metric_gates() = Threshold("auc", v1::COMPARISON_OP_GREATER_OR_EQUAL, floor);
  return standard;
}

v1::Principal Authority() { return Reviewer("alice"); }

std::vector<v1::AuditEntry> Audit(const Registry& r) {
  std::vector<v1::AuditEntry> entries;
  REQUIRE(r.log
              ->AuditEntries(0, 0,
                             [&](const v1::AuditEntry& entry) {
                               entries.push_back(entry);
                               return true;
                             })
              .ok());
  return entries;
}

TEST_CASE("Evaluations are appended to a version, signed, dated, audited and watched",
          "[registry][evaluations]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  const int64_t before = r.log->revision();

  const absl::StatusOr<v1::ModelVersion> evaluated =
      r.store->AppendEvaluation("fraud", 1, Capacity(4.2), Reviewer("inference"));
  REQUIRE(evaluated.ok());
  REQUIRE(evaluated->evaluations_size() == 1);
  CHECK(evaluated->evaluations(0).evaluated_by().subject() == "inference");
  CHECK(evaluated->evaluations(0).create_time().seconds() > 0);
  CHECK(evaluated->evaluations(0).params().at("batch_size") == "32");
  // The registered fields stay as they were.
  CHECK(evaluated->metrics_size() == 1);
  CHECK(evaluated->registered_by().subject() == "dana");

  REQUIRE(r.store->AppendEvaluation("fraud", 1, Capacity(3.9), Dana()).ok());
  const absl::StatusOr<v1::ModelVersion> read = r.store->GetVersion("fraud", 1);
  REQUIRE(read.ok());
  REQUIRE(read->evaluations_size() == 2);
  CHECK(read->evaluations(1).metrics(0).value() == 3.9);

  const std::vector<v1::AuditEntry> audit = Audit(r);
  REQUIRE(audit.size() >= 2);
  CHECK(audit.back().action() == "version.evaluate");
  CHECK(audit.back().target() == "models/fraud/versions/1/evaluations");
  CHECK(absl::StrContains(audit.back().after_json(), "serving_p99_ms"));
  CHECK(r.log->VerifyAudit(0, 0)->valid);
  const std::vector<v1::WatchEvent> events = EventsAfter(*r.log, before);
  REQUIRE(events.size() == 2);
  CHECK(events[0].type() == v1::WATCH_EVENT_TYPE_VERSION_EVALUATED);
  CHECK(events[0].version().evaluations_size() == 1);

  // A client cannot slip evaluations in at registration.
  v1::ModelVersion sneaky = Version();
  *sneaky.add_evaluations() = Capacity(1);
  const absl::StatusOr<v1::ModelVersion> second = r.store->RegisterVersion(sneaky, Dana());
  REQUIRE(second.ok());
  CHECK(second->evaluations_size() == 0);
}

TEST_CASE("Evaluations: malformed or about an unknown version are refused, naming the culprit",
          "[registry][evaluations]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  v1::VersionEvaluation bad_kind = Capacity(1);
  bad_kind.set_kind("Capacity Test");
  const absl::Status kind = r.store->AppendEvaluation("fraud", 1, bad_kind, Dana()).status();
  CHECK(kind.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(kind.message(), "evaluation kind name 'Capacity Test'"));
  v1::VersionEvaluation unnamed = Capacity(1);
  unnamed.mutable_metrics(0)->clear_name();
  const absl::Status metric = r.store->AppendEvaluation("fraud", 1, unnamed, Dana()).status();
  CHECK(metric.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(metric.message(), "'capacity' evaluation has no name"));
  const absl::Status missing = r.store->AppendEvaluation("fraud", 7, Capacity(1), Dana()).status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.message(), "version 7 of model 'fraud'"));
  CHECK(r.store->AppendEvaluation("churn", 1, Capacity(1), Dana()).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("A promotion gate reads the latest evaluated value of a metric",
          "[registry][evaluations][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.9);
  v1::PromotionPolicy policy;
  policy.set_model("fraud");
  policy.set_alias("production");
  *policy.add_metric_gates() = Threshold("serving_p99_ms", v1::COMPARISON_OP_LESS_OR_EQUAL, 5);
  REQUIRE(r.store->SetPromotionPolicy(policy, Reviewer("alice")).ok());

  const absl::Status unmeasured =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana(), true).status();
  CHECK(unmeasured.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(unmeasured.message(), "reports no serving_p99_ms"));

  REQUIRE(r.store->AppendEvaluation("fraud", 1, Capacity(4), Dana()).ok());
  REQUIRE(r.store->AppendEvaluation("fraud", 1, Capacity(7.5), Dana()).ok());
  const absl::Status slow =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana(), true).status();
  CHECK(slow.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(slow.message(), "serving_p99_ms 7.5 not <= 5"));

  REQUIRE(r.store->AppendEvaluation("fraud", 1, Capacity(4.8), Dana()).ok());
  const absl::StatusOr<v1::PromotionRequest> fast =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana());
  REQUIRE(fast.ok());
  CHECK(fast->state() == v1::PROMOTION_STATE_COMPLETED);
}

TEST_CASE("Standards: set, read, listed by scope and alias, replaced and deleted, audited",
          "[registry][standards]") {
  Registry r;
  CHECK(r.store->GetStandard("min-auc").status().code() == absl::StatusCode::kNotFound);
  const absl::StatusOr<v1::Standard> set = r.store->SetStandard(MinAuc(0.8), Authority());
  REQUIRE(set.ok());
  CHECK(set->updated_by().subject() == "alice");
  v1::Standard card;
  card.set_name("card");
  card.set_entity("customer");
  card.set_alias("candidate");
  card.add_required_artifacts(v1::ARTIFACT_KIND_MODEL_CARD);
  REQUIRE(r.store->SetStandard(card, Authority()).ok());

  CHECK(r.store->ListStandards("", "")->size() == 2);
  REQUIRE(r.store->ListStandards("*", "")->size() == 1);
  CHECK(r.store->ListStandards("*", "")->front().name() == "min-auc");
  CHECK(r.store->ListStandards("customer", "")->front().name() == "card");
  REQUIRE(r.store->ListStandards("", "production")->size() == 1);
  CHECK(r.store->ListStandards("", "production")->front().name() == "min-auc");

  REQUIRE(r.store->SetStandard(MinAuc(0.85), Reviewer("bob")).ok());
  CHECK(r.store->GetStandard("min-auc")->metric_gates(0).value() == 0.85);
  REQUIRE(r.store->DeleteStandard("card", Authority(), "superseded").ok());
  const absl::Status gone = r.store->DeleteStandard("card", Authority());
  CHECK(gone.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(gone.message(), "standard 'card'"));

  const std::vector<v1::AuditEntry> audit = Audit(r);
  REQUIRE(audit.size() == 4);
  CHECK(audit[0].action() == "standard.set");
  CHECK(audit[0].target() == "standards/min-auc");
  CHECK(audit[2].before_json().find("0.8") != std::string::npos);
  CHECK(audit[3].action() == "standard.delete");
  CHECK(audit[3].reason() == "superseded");
}

TEST_CASE("Standards: malformed ones are refused, naming the field", "[registry][standards]") {
  Registry r;
  v1::Standard empty;
  empty.set_name("nothing");
  const absl::Status no_rule = r.store->SetStandard(empty, Authority()).status();
  CHECK(no_rule.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(no_rule.message(), "'nothing' has no rule"));
  v1::Standard no_op = MinAuc(0.8);
  no_op.mutable_metric_gates(0)->set_op(v1::COMPARISON_OP_UNSPECIFIED);
  CHECK(absl::StrContains(r.store->SetStandard(no_op, Authority()).status().message(),
                          "metric_gates on 'auc' needs a comparison"));
  v1::Standard bad_name = MinAuc(0.8);
  bad_name.set_name("Min AUC");
  CHECK(absl::StrContains(r.store->SetStandard(bad_name, Authority()).status().message(),
                          "standard name 'Min AUC'"));
  v1::Standard bad_kind = MinAuc(0.8);
  bad_kind.add_required_artifacts(v1::ARTIFACT_KIND_UNSPECIFIED);
  CHECK(r.store->SetStandard(bad_kind, Authority()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(r.store->ListStandards("", "")->empty());
}

TEST_CASE("A standard refuses a promotion, naming itself, its scope and its setter",
          "[registry][standards][promotion]") {
  Registry r;
  v1::Model model = Fraud();
  model.set_entity("customer");
  REQUIRE(r.store->CreateModel(model, Dana()).ok());
  RegisterWithAuc(r, 0.75);
  REQUIRE(r.store->SetStandard(MinAuc(0.8, "customer"), Authority()).ok());

  const absl::StatusOr<v1::PromotionRequest> refused =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.status().message(),
                          "standard 'min-auc' (entity 'customer', set by alice): auc >= 0.8"));
  CHECK(absl::StrContains(refused.status().message(), "auc 0.75 not >= 0.8"));
  // Governed: no direct move around it.
  const absl::Status direct = r.store->SetAlias("fraud", "production", 1, Dana()).status();
  CHECK(direct.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(direct.message(), "governed by standard 'min-auc'"));
  // Other aliases, and models of other entities, are not governed by it.
  CHECK(r.store->SetAlias("fraud", "candidate", 1, Dana()).ok());
  v1::Model update;
  update.set_name("fraud");
  update.set_entity("merchant");
  REQUIRE(r.store->UpdateModel(update, {"entity"}, Dana()).ok());
  CHECK(r.store->RequestPromotion("fraud", "production", 1, "", Dana(), true).ok());
}

TEST_CASE("Standards require artifacts, evaluations and a margin over the baseline",
          "[registry][standards][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  v1::ModelVersion version = Version();
  v1::Metric* auc = version.add_metrics();
  auc->set_name("auc");
  auc->set_value(0.58);
  auc->mutable_baseline()->set_value(0.5);
  REQUIRE(r.store->RegisterVersion(version, Dana()).ok());
  v1::Standard standard;
  standard.set_name("factory");
  standard.add_required_artifacts(v1::ARTIFACT_KIND_MODEL_CARD);
  standard.add_required_evaluations("capacity");
  v1::BaselineThreshold* lift = standard.add_baseline_gates();
  lift->set_metric("auc");
  lift->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  lift->set_margin(0.05);
  REQUIRE(r.store->SetStandard(standard, Authority()).ok());

  absl::Status refused =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana(), true).status();
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.message(), "2 gate(s) failed"));
  CHECK(absl::StrContains(refused.message(), "no artifact of kind ARTIFACT_KIND_MODEL_CARD"));
  CHECK(absl::StrContains(refused.message(), "no 'capacity' evaluation"));
  CHECK(absl::StrContains(refused.message(), "standard 'factory' (factory-wide, set by alice)"));

  REQUIRE(r.store->AppendEvaluation("fraud", 1, Capacity(3), Dana()).ok());
  refused = r.store->RequestPromotion("fraud", "production", 1, "", Dana(), true).status();
  CHECK(absl::StrContains(refused.message(), "1 gate(s) failed"));

  // A later evaluation that lowers auc to within the margin of the baseline fails the lift.
  v1::ModelVersion carded = Version();
  carded.mutable_artifacts(0)->set_kind(v1::ARTIFACT_KIND_MODEL_CARD);
  *carded.add_metrics() = version.metrics(0);
  REQUIRE(r.store->RegisterVersion(carded, Dana()).ok());
  REQUIRE(r.store->AppendEvaluation("fraud", 2, Capacity(3), Dana()).ok());
  CHECK(r.store->RequestPromotion("fraud", "production", 2, "", Dana(), true).ok());
  v1::VersionEvaluation rescored = Capacity(3);
  rescored.set_kind("rescore");
  v1::Metric* lower = rescored.add_metrics();
  *lower = version.metrics(0);
  lower->set_value(0.54);
  REQUIRE(r.store->AppendEvaluation("fraud", 2, rescored, Dana()).ok());
  refused = r.store->RequestPromotion("fraud", "production", 2, "", Dana(), true).status();
  CHECK(absl::StrContains(refused.message(), "auc >= baseline + 0.05: auc 0.54 not >= 0.55"));
}

TEST_CASE("A model's policy tightens a standard; a weaker one has no effect, and says so",
          "[registry][standards][promotion]") {
  Registry r;
  REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
  RegisterWithAuc(r, 0.82);
  REQUIRE(r.store->SetStandard(MinAuc(0.8), Authority()).ok());
  v1::PromotionPolicy policy;
  policy.set_model("fraud");
  policy.set_alias("production");
  *policy.add_metric_gates() = Threshold("auc", v1::COMPARISON_OP_GREATER_OR_EQUAL, 0.85);
  REQUIRE(r.store->SetPromotionPolicy(policy, Reviewer("carol")).ok());

  // Stricter policy: it decides, although the standard passes.
  const absl::Status tightened =
      r.store->RequestPromotion("fraud", "production", 1, "", Dana(), true).status();
  CHECK(tightened.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(tightened.message(), "1 gate(s) failed: auc >= 0.85"));
  absl::StatusOr<v1::PromotionPolicy> described =
      r.store->DescribePromotionPolicy("fraud", "production");
  REQUIRE(described.ok());
  REQUIRE(described->standard_notes_size() == 1);
  CHECK(absl::StrContains(described->standard_notes(0), "gate 'auc >= 0.85' tightens standard"));

  // Weaker policy: the standard decides; the note says the gate has no effect.
  policy.mutable_metric_gates(0)->set_value(0.7);
  REQUIRE(r.store->SetPromotionPolicy(policy, Reviewer("carol")).ok());
  described = r.store->DescribePromotionPolicy("fraud", "production");
  REQUIRE(described->standard_notes_size() == 1);
  CHECK(absl::StrContains(described->standard_notes(0),
                          "gate 'auc >= 0.7' is weaker than standard 'min-auc' (factory-wide, set "
                          "by alice)'s 'auc >= 0.8' and has no effect"));
  RegisterWithAuc(r, 0.75);
  const absl::Status weaker =
      r.store->RequestPromotion("fraud", "production", 2, "", Dana(), true).status();
  CHECK(absl::StrContains(weaker.message(), "standard 'min-auc'"));
  CHECK(r.store->RequestPromotion("fraud", "production", 1, "", Dana()).ok());
}

TEST_CASE("Model entity: set at creation and update, checked", "[registry][standards]") {
  Registry r;
  v1::Model model = Fraud();
  model.set_entity("Customer!");
  const absl::Status bad = r.store->CreateModel(model, Dana()).status();
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad.message(), "entity name 'Customer!'"));
  model.set_entity("customer");
  REQUIRE(r.store->CreateModel(model, Dana()).ok());
  CHECK(r.store->GetModel("fraud")->entity() == "customer");
  v1::Model cleared;
  cleared.set_name("fraud");
  // Unnamed, the entity stays: an update without a mask does not drop the model's standards.
  REQUIRE(r.store->UpdateModel(cleared, {}, Dana()).ok());
  CHECK(r.store->GetModel("fraud")->entity() == "customer");
  REQUIRE(r.store->UpdateModel(cleared, {"entity"}, Dana()).ok());
  CHECK(r.store->GetModel("fraud")->entity().empty());
}

}  // namespace
}  // namespace fabrique::registry
