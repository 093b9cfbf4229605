#include "services/tower/registry_port.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {

using Stub = client::RegistryClient::Stub;

absl::StatusOr<std::unique_ptr<RemoteRegistryPort>> RemoteRegistryPort::Create(
    RemoteRegistryPortOptions options) {
  if (options.registry == nullptr) {
    return absl::InvalidArgumentError("the registry port needs a channel to the registry");
  }
  if (options.production_alias.empty()) options.production_alias = "production";
  return std::unique_ptr<RemoteRegistryPort>(new RemoteRegistryPort(std::move(options)));
}

client::RegistryClient RemoteRegistryPort::ClientFor(const v1::Principal* user) const {
  client::CallContext call;
  call.timeout = options_.call_timeout;
  if (user != nullptr && !user->subject().empty() &&
      !absl::StartsWith(user->subject(), "service:")) {
    call.credentials.on_behalf_of_user = user->subject();
    call.credentials.on_behalf_of_groups.assign(user->groups().begin(), user->groups().end());
  }
  return client::RegistryClient(options_.registry, {"registry", options_.registry_target},
                                std::move(call));
}

absl::Status RemoteRegistryPort::SetAlias(absl::string_view model, absl::string_view alias,
                                          int64_t version, absl::string_view reason,
                                          const v1::Principal& on_behalf_of) {
  v1::SetAliasRequest request;
  request.set_model(std::string(model));
  request.set_alias(std::string(alias));
  request.set_version(version);
  request.set_reason(std::string(reason));
  // Pointing an alias at a version twice leaves it as once: safe to retry.
  return ClientFor(&on_behalf_of)
      .CallIdempotent(&Stub::SetAlias, request,
                      absl::StrCat("SetAlias ", model, "@", alias, "=", version))
      .status();
}

absl::Status RemoteRegistryPort::SetCanary(absl::string_view model,
                                           absl::string_view candidate_alias, double percent,
                                           const v1::Principal& on_behalf_of) {
  if (!(percent >= 0 && percent <= 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a canary share of ", percent, "% is not in [0, 100]"));
  }
  const client::RegistryClient registry = ClientFor(&on_behalf_of);
  v1::GetTrafficPolicyRequest get;
  get.set_model(std::string(model));
  ASSIGN_OR_RETURN(v1::TrafficPolicy policy,
                   registry.CallIdempotent(&Stub::GetTrafficPolicy, get,
                                           absl::StrCat("GetTrafficPolicy ", model)));
  // Output-only fields go back empty; every other setting is kept as it was.
  policy.clear_update_time();
  policy.clear_updated_by();
  policy.set_model(std::string(model));
  policy.set_candidate_alias(std::string(candidate_alias));
  policy.set_canary_percent(percent);
  v1::SetTrafficPolicyRequest set;
  *set.mutable_policy() = policy;
  return registry
      .CallIdempotent(&Stub::SetTrafficPolicy, set, absl::StrCat("SetTrafficPolicy ", model))
      .status();
}

absl::StatusOr<v1::PromotionRequest> RemoteRegistryPort::RequestPromotion(
    absl::string_view model, absl::string_view alias, int64_t version, absl::string_view reason,
    const v1::Principal& on_behalf_of) {
  v1::RequestPromotionRequest request;
  request.set_model(std::string(model));
  request.set_alias(std::string(alias));
  request.set_version(version);
  request.set_comment(std::string(reason));
  // One promotion of a version to an alias per tower: a retry after a lost answer finds the
  // request the first call stored instead of opening a second one.
  request.set_request_id(absl::StrCat("tower:promote:", model, "@", alias, "=", version));
  return ClientFor(&on_behalf_of)
      .CallIdempotent(&Stub::RequestPromotion, request,
                      absl::StrCat("RequestPromotion ", model, "@", alias, "=", version));
}

absl::StatusOr<std::vector<v1::PortfolioModel>> RemoteRegistryPort::ModelsOf(
    absl::string_view use_case_id) {
  const client::RegistryClient registry = ClientFor(nullptr);
  v1::ListModelsRequest list;
  list.set_use_case_id(std::string(use_case_id));
  std::vector<std::string> names;
  RETURN_IF_ERROR(registry.CallPages(&Stub::ListModels, list,
                                     absl::StrCat("ListModels use_case=", use_case_id),
                                     [&](const v1::ListModelsResponse& page) {
                                       for (const v1::Model& m : page.models()) {
                                         // The filter is the registry's; checked again here.
                                         if (m.use_case_id() == use_case_id) {
                                           names.push_back(m.name());
                                         }
                                       }
                                     }));
  std::vector<v1::PortfolioModel> models;
  for (const std::string& name : names) {
    v1::PortfolioModel& entry = models.emplace_back();
    entry.set_model(name);
    v1::GetAliasRequest get;
    get.set_model(name);
    get.set_alias(options_.production_alias);
    absl::StatusOr<v1::Alias> alias = registry.CallIdempotent(
        &Stub::GetAlias, get, absl::StrCat("GetAlias ", name, "@", options_.production_alias));
    if (alias.ok()) {
      entry.set_production_version(alias->version());
    } else if (!absl::IsNotFound(alias.status())) {
      return alias.status();  // NOT_FOUND: nothing in production yet (0).
    }
  }
  return models;
}

}  // namespace fabrique::services
