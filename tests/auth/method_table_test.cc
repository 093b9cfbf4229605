// The method tables against the services' own descriptors: every method of every service has a
// rule, every rule names a real method, a catalog permission and request fields that exist; and
// SquadOf reads the squad or the resource from a request.

#include "libs/auth/method_table.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.pb.h"
#include "fabrique/v1/inference.pb.h"
#include "fabrique/v1/monitor.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "fabrique/v1/tower.pb.h"
#include "fabrique/v1/trainer.pb.h"
#include "inference/grpc_predict_v2.pb.h"
#include "libs/auth/permissions.h"

namespace fabrique::auth {
namespace {

using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

// Every service of the six services' proto files, from the generated pool. Naming one message
// of each file links its descriptor in, so a service added to any of them is seen here.
std::vector<const ServiceDescriptor*> AllServices() {
  const FileDescriptor* files[] = {
      v1::GetEntityRequest::descriptor()->file(),
      v1::GetModelRequest::descriptor()->file(),
      v1::GetRunRequest::descriptor()->file(),
      v1::PredictRequest::descriptor()->file(),
      inference::ModelInferRequest::descriptor()->file(),
      v1::GetAlertRequest::descriptor()->file(),
      v1::GetSquadRequest::descriptor()->file(),
  };
  std::vector<const ServiceDescriptor*> services;
  for (const FileDescriptor* file : files) {
    for (int i = 0; i < file->service_count(); ++i) {
      const ServiceDescriptor* service = file->service(i);
      // The same service through the pool, as a server's reflection would find it.
      REQUIRE(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                  service->full_name()) == service);
      services.push_back(service);
    }
  }
  return services;
}

TEST_CASE("every method of every service has a rule") {
  const std::vector<const ServiceDescriptor*> services = AllServices();
  REQUIRE(services.size() == 7);
  std::vector<std::string> missing;
  for (const ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      if (FindRule(service->full_name(), service->method(i)->name()) == nullptr) {
        missing.push_back(service->method(i)->full_name());
      }
    }
  }
  INFO("methods without a rule: " << absl::StrJoin(missing, ", "));
  CHECK(missing.empty());
}

TEST_CASE("every rule names a real method, a catalog permission and request fields that exist") {
  std::set<std::string> services_seen;
  for (const ServiceDescriptor* service : AllServices()) services_seen.insert(service->full_name());
  const std::set<absl::string_view> kinds = {
      kEntity, kFeatureGroup, kDataset, kModel, kPromotionRequest,
      kRun,    kAlert,        kUseCase, kJob,   kApproval};
  for (const auto& [service_name, table] : MethodTables()) {
    CHECK(services_seen.count(service_name) == 1);
    const ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    REQUIRE(service != nullptr);
    for (const auto& [method_name, rule] : *table) {
      const std::string where = absl::StrCat(service_name, "/", method_name);
      INFO(where);
      const MethodDescriptor* method = service->FindMethodByName(method_name);
      REQUIRE(method != nullptr);
      CHECK(FindPermission(rule.permission) != nullptr);
      switch (rule.squad_from) {
        case SquadFrom::kNone:
        case SquadFrom::kAnyOwnSquad:
          CHECK(rule.field.empty());
          CHECK(rule.resource.empty());
          break;
        case SquadFrom::kRequestField:
          CHECK(CheckFieldPath(*method->input_type(), rule.field).ok());
          CHECK(rule.resource.empty());
          break;
        case SquadFrom::kResourceOwner:
          CHECK(CheckFieldPath(*method->input_type(), rule.field).ok());
          CHECK(kinds.count(rule.resource) == 1);
          break;
      }
    }
  }
}

TEST_CASE("FindRule and FindRuleForPath find a method's rule; unknown ones find none") {
  const MethodRule* rule = FindRule("fabrique.v1.ModelRegistry", "ApprovePromotion");
  REQUIRE(rule != nullptr);
  CHECK(rule->permission == "models.approve");
  CHECK(rule->squad_from == SquadFrom::kResourceOwner);
  CHECK(rule->resource == "promotion_request");
  CHECK(FindRuleForPath("/fabrique.v1.ModelRegistry/ApprovePromotion") == rule);
  CHECK(FindRuleForPath("/inference.GRPCInferenceService/ModelInfer")->permission ==
        "inference.predict");
  CHECK(FindRule("fabrique.v1.ModelRegistry", "DropEverything") == nullptr);
  CHECK(FindRule("fabrique.v1.Nothing", "GetModel") == nullptr);
  CHECK(FindRuleForPath("fabrique.v1.ModelRegistry/GetModel") == nullptr);
  CHECK(FindRuleForPath("/fabrique.v1.ModelRegistry") == nullptr);
  CHECK(FindRuleForPath("") == nullptr);
}

TEST_CASE("SquadOf reads a request field naming the squad") {
  const MethodRule& rule = *FindRule("fabrique.v1.FeatureStore", "ApplyFeatureGroup");
  v1::ApplyFeatureGroupRequest request;
  request.mutable_spec()->set_owner_squad("risk");
  CHECK(*SquadOf(rule, request) == "risk");

  request.mutable_spec()->clear_owner_squad();
  absl::StatusOr<std::string> squad = SquadOf(rule, request);
  CHECK(squad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(squad.status().message() ==
        "spec.owner_squad is required: it names the squad the call acts in");
  // An unset message on the way reads as empty.
  squad = SquadOf(rule, v1::ApplyFeatureGroupRequest());
  CHECK(squad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("SquadOf asks the owner lookup for the squad of a named resource") {
  const MethodRule& rule = *FindRule("fabrique.v1.ModelRegistry", "GetVersion");
  v1::GetVersionRequest request;
  request.mutable_ref()->set_model("fraud-detector");
  std::vector<std::string> asked;
  const OwnerLookup owner_of = [&](absl::string_view kind,
                                   absl::string_view name) -> absl::StatusOr<std::string> {
    asked.push_back(absl::StrCat(kind, "/", name));
    if (name == "fraud-detector") return std::string("fraud");
    return absl::NotFoundError(absl::StrCat("model '", name, "' not found"));
  };
  CHECK(*SquadOf(rule, request, owner_of) == "fraud");
  CHECK(asked == std::vector<std::string>{"model/fraud-detector"});

  request.mutable_ref()->set_model("ghost");
  absl::StatusOr<std::string> squad = SquadOf(rule, request, owner_of);
  CHECK(squad.status().code() == absl::StatusCode::kNotFound);
  CHECK(squad.status().message() == "model 'ghost' not found");

  squad = SquadOf(rule, request);
  CHECK(squad.status().code() == absl::StatusCode::kInternal);
  CHECK(squad.status().message() == "no owner lookup to find the squad of model 'ghost'");

  squad = SquadOf(rule, v1::GetVersionRequest(), owner_of);
  CHECK(squad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(squad.status().message() == "ref.model is required: it names the model the call acts on");
}

TEST_CASE("SquadOf: platform-wide calls are checked in every squad; lists have no single squad") {
  CHECK(*SquadOf(*FindRule("fabrique.v1.ModelRegistry", "CollectGarbage"),
                 v1::CollectGarbageRequest()) == "*");
  const absl::StatusOr<std::string> squad =
      SquadOf(*FindRule("fabrique.v1.ModelRegistry", "ListModels"), v1::ListModelsRequest());
  CHECK(squad.status().code() == absl::StatusCode::kInternal);
  // The monitor's default policy (model "") is the platform's.
  const MethodRule& set_policy = *FindRule("fabrique.v1.Monitor", "SetMonitoringPolicy");
  CHECK(*SquadOf(set_policy, v1::SetMonitoringPolicyRequest()) == "*");
  v1::SetMonitoringPolicyRequest for_model;
  for_model.mutable_policy()->set_model("fraud-detector");
  CHECK(*SquadOf(set_policy, for_model, [](absl::string_view, absl::string_view) {
    return absl::StatusOr<std::string>("fraud");
  }) == "fraud");
}

TEST_CASE("field paths must name singular string fields") {
  const google::protobuf::Descriptor& type = *v1::ApplyFeatureGroupRequest::descriptor();
  CHECK(CheckFieldPath(type, "spec.owner_squad").ok());
  for (const char* bad : {"spec.nope", "spec", "spec.features.name", "expected_schema_version",
                          "spec.owner_squad.x", ""}) {
    INFO(bad);
    const absl::Status status = CheckFieldPath(type, bad);
    CHECK(status.code() == absl::StatusCode::kInternal);
    CHECK(status.message() == absl::StrCat("field path '", bad,
                                           "' names no singular string field of "
                                           "fabrique.v1.ApplyFeatureGroupRequest"));
  }
  // Through a oneof, as the first message of a training-set build carries its spec.
  CHECK(CheckFieldPath(*v1::BuildTrainingSetRequest::descriptor(), "spec.dataset_name").ok());
  v1::BuildTrainingSetRequest build;
  build.mutable_spec()->set_dataset_name("d");
  CHECK(*FieldText(build, "spec.dataset_name") == "d");
}

}  // namespace
}  // namespace fabrique::auth
