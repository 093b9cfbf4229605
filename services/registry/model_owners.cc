#include "services/registry/model_owners.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {

auth::OwnerLookup ModelOwners(const registry::RegistryStore* store) {
  return [store](absl::string_view kind, absl::string_view name) -> absl::StatusOr<std::string> {
    std::string model(name);
    if (kind == auth::kPromotionRequest) {
      ASSIGN_OR_RETURN(v1::PromotionRequest request, store->GetPromotionRequest(model));
      model = request.model();
    } else if (kind != auth::kModel) {
      return absl::InternalError(absl::StrCat("the registry owns no ", kind));
    }
    ASSIGN_OR_RETURN(v1::Model found, store->GetModel(model));
    // A model made before squads owned models belongs to the platform: only a caller holding the
    // permission in every squad reaches it, and may give it an owner.
    if (found.owner_squad().empty()) return std::string(auth::kAllSquads);
    return found.owner_squad();
  };
}

const std::string& ModelOwnerCache::OwnerOf(const std::string& model) {
  auto it = owners_.find(model);
  if (it != owners_.end()) return it->second;
  absl::StatusOr<v1::Model> found = store_->GetModel(model);
  return owners_.emplace(model, found.ok() ? found->owner_squad() : std::string()).first->second;
}

absl::string_view ModelOfTarget(absl::string_view target) {
  if (!absl::ConsumePrefix(&target, "models/")) return "";
  return target.substr(0, target.find('/'));
}

}  // namespace fabrique::services
