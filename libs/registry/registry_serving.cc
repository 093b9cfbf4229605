// RegistryStore's side that inference servers follow: each model's traffic policy, and the state
// snapshot a new watcher starts from.

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/registry_store.h"

namespace fabrique::registry {
namespace {

constexpr char kDefaultPrimary[] = "production";
constexpr char kDefaultCandidate[] = "candidate";

v1::TrafficPolicy DefaultTrafficPolicy(const std::string& model) {
  v1::TrafficPolicy policy;
  policy.set_model(model);
  policy.set_primary_alias(kDefaultPrimary);
  policy.set_candidate_alias(kDefaultCandidate);
  policy.set_canary_routing(v1::CANARY_ROUTING_ENTITY_HASH);
  return policy;
}

v1::WatchEvent SnapshotEvent(v1::WatchEventType type, const std::string& model) {
  v1::WatchEvent event = records::Event(type, model);
  event.set_snapshot(true);
  return event;
}

}  // namespace

absl::StatusOr<v1::TrafficPolicy> RegistryStore::SetTrafficPolicy(v1::TrafficPolicy policy,
                                                                  const v1::Principal& caller) {
  if (policy.primary_alias().empty()) policy.set_primary_alias(kDefaultPrimary);
  if (policy.candidate_alias().empty()) policy.set_candidate_alias(kDefaultCandidate);
  if (policy.canary_routing() == v1::CANARY_ROUTING_UNSPECIFIED) {
    policy.set_canary_routing(v1::CANARY_ROUTING_ENTITY_HASH);
  }
  RETURN_IF_ERROR(records::CheckName(policy.primary_alias(), "primary alias"));
  RETURN_IF_ERROR(records::CheckName(policy.candidate_alias(), "candidate alias"));
  if (policy.primary_alias() == policy.candidate_alias()) {
    return absl::InvalidArgumentError(absl::StrCat("the primary and candidate aliases are both '",
                                                   policy.primary_alias(), "': name two"));
  }
  if (!std::isfinite(policy.canary_percent()) || policy.canary_percent() < 0 ||
      policy.canary_percent() > 100) {
    return absl::InvalidArgumentError(absl::StrCat("canary_percent is ", policy.canary_percent(),
                                                   ": it must be between 0 and 100"));
  }
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::Model model, GetModel(policy.model()));
  const bool needs_candidate = policy.canary_percent() > 0 || policy.shadow();
  if (needs_candidate && model.aliases().count(policy.candidate_alias()) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "alias '", policy.candidate_alias(), "' of ", records::ModelWhat(policy.model()),
        " points at no version: promote a version to it before sending it canary or shadow "
        "traffic"));
  }
  ASSIGN_OR_RETURN(v1::TrafficPolicy before, GetTrafficPolicy(policy.model()));
  if (policy.primary_alias() != before.primary_alias() &&
      model.aliases().count(policy.primary_alias()) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "alias '", policy.primary_alias(), "' of ", records::ModelWhat(policy.model()),
        " points at no version: it cannot become the primary that serves all traffic"));
  }
  // Both the primary that gives traffic up and the one that takes it must allow the caller:
  // otherwise naming an unprotected alias as primary would route around a protected one.
  for (const std::string& alias : {before.primary_alias(), policy.primary_alias()}) {
    ASSIGN_OR_RETURN(v1::PromotionPolicy primary, GetPromotionPolicy(policy.model(), alias));
    RETURN_IF_ERROR(CheckAllowedRoles(primary, caller));
  }
  *policy.mutable_update_time() = Now();
  *policy.mutable_updated_by() = caller;
  kv::WriteBatch batch;
  batch.Put(family_, records::TrafficKey(policy.model()), policy.SerializeAsString());
  Mutation mutation{caller, "traffic.set", absl::StrCat("models/", policy.model(), "/traffic"),
                    records::Json(before), records::Json(policy)};
  *mutation.events
       .emplace_back(records::Event(v1::WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED, policy.model()))
       .mutable_traffic_policy() = policy;
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return policy;
}

absl::StatusOr<v1::TrafficPolicy> RegistryStore::GetTrafficPolicy(const std::string& model) const {
  RETURN_IF_ERROR(GetModel(model).status());
  absl::StatusOr<v1::TrafficPolicy> policy = records::Read<v1::TrafficPolicy>(
      *options_.store, family_, records::TrafficKey(model), "traffic policy");
  if (absl::IsNotFound(policy.status())) return DefaultTrafficPolicy(model);
  return policy;
}

absl::StatusOr<RegistryStore::StateSnapshot> RegistryStore::SnapshotState(
    const std::vector<std::string>& models) {
  // Under the writer lock no commit is half done, so what is read is exactly the state at the
  // log's revision. The reads are a few records per model.
  absl::MutexLock lock(&writer_);
  StateSnapshot snapshot;
  snapshot.revision = options_.log->revision();
  std::vector<v1::Model> found;
  if (models.empty()) {
    v1::ListModelsRequest request;
    request.set_page_size(1000);
    while (true) {
      ASSIGN_OR_RETURN(v1::ListModelsResponse page, ListModels(request));
      for (v1::Model& model : *page.mutable_models()) found.push_back(std::move(model));
      if (page.next_page_token().empty()) break;
      request.set_page_token(page.next_page_token());
    }
  } else {
    for (const std::string& name : models) {
      absl::StatusOr<v1::Model> model = GetModel(name);
      // A watched model may be created later; its creation arrives as a change.
      if (absl::IsNotFound(model.status())) continue;
      if (!model.ok()) return model.status();
      found.push_back(*std::move(model));
    }
  }
  for (const v1::Model& model : found) {
    *snapshot.events.emplace_back(SnapshotEvent(v1::WATCH_EVENT_TYPE_MODEL_CREATED, model.name()))
         .mutable_model_object() = model;
    ASSIGN_OR_RETURN(std::vector<v1::Alias> aliases, ListAliases(model.name()));
    for (v1::Alias& alias : aliases) {
      *snapshot.events.emplace_back(SnapshotEvent(v1::WATCH_EVENT_TYPE_ALIAS_SET, model.name()))
           .mutable_alias() = std::move(alias);
    }
    ASSIGN_OR_RETURN(std::vector<v1::PromotionPolicy> policies,
                     ListPromotionPolicies(model.name()));
    for (v1::PromotionPolicy& policy : policies) {
      *snapshot.events
           .emplace_back(SnapshotEvent(v1::WATCH_EVENT_TYPE_PROMOTION_POLICY_CHANGED, model.name()))
           .mutable_promotion_policy() = std::move(policy);
    }
    ASSIGN_OR_RETURN(v1::TrafficPolicy traffic, GetTrafficPolicy(model.name()));
    *snapshot.events
         .emplace_back(SnapshotEvent(v1::WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED, model.name()))
         .mutable_traffic_policy() = std::move(traffic);
  }
  for (v1::WatchEvent& event : snapshot.events) event.set_revision(snapshot.revision);
  return snapshot;
}

}  // namespace fabrique::registry
