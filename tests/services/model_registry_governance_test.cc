// Governance through the registry's real adapter and real identities: evaluations appended by a
// data scientist and by the inference service's certificate, returned by GetVersion and audited;
// standards set only by a design authority bound in every squad, refusing a promotion with their
// name, scope and setter; a model's policy tightening a standard, and a weaker one reported as
// having no effect. Refusals are PERMISSION_DENIED naming the permission.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/services/access_refusals.h"
#include "tests/services/model_registry_test_server.h"

namespace fabrique::services {
namespace {

using registry_test::Server;
using testing::CheckDenied;

// The identity of these tests: the default policy, with erin the design authority of every squad.
testing::TestIdentity& GovernanceIdentity() {
  static testing::TestIdentity* const identity = [] {
    testing::TestIdentityOptions options;
    options.extra_policy = {"g, user:erin, *:design-authority"};
    return new testing::TestIdentity(options);
  }();
  return *identity;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& user,
                                         const std::vector<std::string>& groups) {
  return GovernanceIdentity().Context(user, groups);
}
std::unique_ptr<grpc::ClientContext> Dana() { return Ctx("dana", {"risk:data-scientist"}); }
std::unique_ptr<grpc::ClientContext> Erin() { return Ctx("erin", {}); }

// Model "fraud" of squad risk scoring entity "customer", version 1 with auc 0.82.
void SetUpFraud(Server& s) {
  v1::CreateModelRequest create;
  create.mutable_model()->set_name("fraud");
  create.mutable_model()->set_owner_squad("risk");
  create.mutable_model()->set_entity("customer");
  v1::Model model;
  REQUIRE(s.stub->CreateModel(Dana().get(), create, &model).ok());
  CHECK(model.entity() == "customer");
  v1::RegisterVersionRequest request;
  request.mutable_version()->set_model("fraud");
  v1::Metric* auc = request.mutable_version()->add_metrics();
  auc->set_name("auc");
  auc->set_value(0.82);
  v1::ModelVersion version;
  REQUIRE(s.stub->RegisterVersion(Dana().get(), request, &version).ok());
}

v1::AppendEvaluationRequest Capacity(double p99_ms) {
  v1::AppendEvaluationRequest request;
  request.mutable_version()->set_model("fraud");
  request.mutable_version()->set_version(1);
  request.mutable_evaluation()->set_kind("capacity");
  v1::Metric* metric = request.mutable_evaluation()->add_metrics();
  metric->set_name("serving_p99_ms");
  metric->set_value(p99_ms);
  return request;
}

v1::SetStandardRequest MinAuc(double floor) {
  v1::SetStandardRequest request;
  v1::Standard* standard = request.mutable_standard();
  standard->set_name("min-auc");
  standard->set_entity("customer");
  v1::MetricThreshold* gate = standard->add_metric_gates();
  gate->set_metric("auc");
  gate->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  gate->set_value(floor);
  return request;
}

TEST_CASE("evaluations: appended by a data scientist and by the inference service, audited") {
  Server s(/*tls=*/true, &GovernanceIdentity());
  SetUpFraud(s);
  v1::ModelVersion version;
  REQUIRE(s.stub->AppendEvaluation(Dana().get(), Capacity(4.5), &version).ok());
  CHECK(version.evaluations(0).evaluated_by().subject() == "dana");
  // The inference service measures capacity with its own certificate, acting for nobody.
  std::unique_ptr<v1::ModelRegistry::Stub> inference = s.ServiceStub("inference");
  grpc::ClientContext as_service;
  REQUIRE(inference->AppendEvaluation(&as_service, Capacity(4.1), &version).ok());
  REQUIRE(version.evaluations_size() == 2);
  CHECK(absl::StrContains(version.evaluations(1).evaluated_by().subject(), "inference"));

  v1::GetVersionRequest get;
  get.mutable_ref()->set_model("fraud");
  get.mutable_ref()->set_version(1);
  REQUIRE(s.stub->GetVersion(Ctx("pia", {"risk:product-owner"}).get(), get, &version).ok());
  CHECK(version.evaluations_size() == 2);
  CHECK(version.evaluations(0).metrics(0).value() == 4.5);

  v1::ListAuditEntriesRequest audit;
  audit.set_model("fraud");
  v1::ListAuditEntriesResponse entries;
  REQUIRE(s.stub->ListAuditEntries(Ctx("root", {}).get(), audit, &entries).ok());
  int evaluations = 0;
  for (const v1::AuditEntry& entry : entries.entries()) {
    evaluations += entry.action() == "version.evaluate" ? 1 : 0;
  }
  CHECK(evaluations == 2);

  // A product owner reads versions but does not evaluate them; another squad does neither.
  CheckDenied(
      s.stub->AppendEvaluation(Ctx("pia", {"risk:product-owner"}).get(), Capacity(1), &version),
      "models.evaluate", "risk");
  CheckDenied(
      s.stub->AppendEvaluation(Ctx("eve", {"retail:data-scientist"}).get(), Capacity(1), &version),
      "models.evaluate", "risk");
  v1::AppendEvaluationRequest no_version = Capacity(1);
  no_version.mutable_version()->set_version(0);
  const grpc::Status invalid = s.stub->AppendEvaluation(Dana().get(), no_version, &version);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(invalid.error_message(), "AppendEvaluationRequest.version"));
}

TEST_CASE("standards: only a design authority of every squad changes them; anyone reads them") {
  Server s(/*tls=*/false, &GovernanceIdentity());
  v1::Standard standard;
  CheckDenied(
      s.stub->SetStandard(Ctx("rita", {"risk:design-authority"}).get(), MinAuc(0.8), &standard),
      "standards.write", "every squad");
  CheckDenied(s.stub->SetStandard(Dana().get(), MinAuc(0.8), &standard), "standards.write",
              "every squad");
  REQUIRE(s.stub->SetStandard(Erin().get(), MinAuc(0.8), &standard).ok());
  CHECK(standard.updated_by().subject() == "erin");

  v1::GetStandardRequest get;
  get.set_name("min-auc");
  REQUIRE(s.stub->GetStandard(Ctx("eve", {"retail:data-scientist"}).get(), get, &standard).ok());
  CHECK(standard.entity() == "customer");
  v1::ListStandardsResponse listed;
  REQUIRE(s.stub->ListStandards(Dana().get(), v1::ListStandardsRequest(), &listed).ok());
  CHECK(listed.standards_size() == 1);
  get.set_name("none");
  const grpc::Status missing = s.stub->GetStandard(Dana().get(), get, &standard);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(missing.error_message(), "standard 'none'"));

  v1::DeleteStandardRequest remove;
  remove.set_name("min-auc");
  google::protobuf::Empty empty;
  CheckDenied(s.stub->DeleteStandard(Ctx("rita", {"risk:design-authority"}).get(), remove, &empty),
              "standards.write", "every squad");
  REQUIRE(s.stub->DeleteStandard(Erin().get(), remove, &empty).ok());
  CHECK(s.stub->DeleteStandard(Erin().get(), remove, &empty).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("standards: a promotion is refused naming the standard; a policy tightens it") {
  Server s(/*tls=*/false, &GovernanceIdentity());
  SetUpFraud(s);
  v1::Standard standard;
  REQUIRE(s.stub->SetStandard(Erin().get(), MinAuc(0.85), &standard).ok());
  v1::RequestPromotionRequest ask;
  ask.set_model("fraud");
  ask.set_alias("production");
  ask.set_version(1);
  v1::PromotionRequest answer;
  const grpc::Status refused = s.stub->RequestPromotion(Dana().get(), ask, &answer);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(),
                          "standard 'min-auc' (entity 'customer', set by erin): auc >= 0.85"));

  // The standard loosened to 0.8; the model's own policy asks 0.9: the policy decides.
  REQUIRE(s.stub->SetStandard(Erin().get(), MinAuc(0.8), &standard).ok());
  v1::SetPromotionPolicyRequest set_policy;
  set_policy.mutable_policy()->set_model("fraud");
  set_policy.mutable_policy()->set_alias("production");
  v1::MetricThreshold* gate = set_policy.mutable_policy()->add_metric_gates();
  gate->set_metric("auc");
  gate->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  gate->set_value(0.9);
  v1::PromotionPolicy policy;
  REQUIRE(
      s.stub->SetPromotionPolicy(Ctx("rita", {"risk:design-authority"}).get(), set_policy, &policy)
          .ok());
  const grpc::Status tightened = s.stub->RequestPromotion(Dana().get(), ask, &answer);
  CHECK(tightened.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(tightened.error_message(), "1 gate(s) failed: auc >= 0.9"));
  v1::GetPromotionPolicyRequest get_policy;
  get_policy.set_model("fraud");
  get_policy.set_alias("production");
  REQUIRE(s.stub->GetPromotionPolicy(Dana().get(), get_policy, &policy).ok());
  REQUIRE(policy.standard_notes_size() == 1);
  CHECK(absl::StrContains(policy.standard_notes(0), "tightens standard 'min-auc'"));

  // A weaker policy has no effect, and says so; the standard (0.8) lets 0.82 through.
  set_policy.mutable_policy()->mutable_metric_gates(0)->set_value(0.5);
  REQUIRE(
      s.stub->SetPromotionPolicy(Ctx("rita", {"risk:design-authority"}).get(), set_policy, &policy)
          .ok());
  REQUIRE(s.stub->GetPromotionPolicy(Dana().get(), get_policy, &policy).ok());
  REQUIRE(policy.standard_notes_size() == 1);
  CHECK(absl::StrContains(policy.standard_notes(0), "has no effect"));
  REQUIRE(s.stub->RequestPromotion(Dana().get(), ask, &answer).ok());
  CHECK(answer.state() == v1::PROMOTION_STATE_COMPLETED);
  bool standard_gate = false;
  for (const v1::GateEvaluation& evaluated : answer.gates()) {
    standard_gate = standard_gate || evaluated.kind() == v1::GATE_KIND_STANDARD;
  }
  CHECK(standard_gate);
}

}  // namespace
}  // namespace fabrique::services
