#ifndef FABRIQUE_SERVICES_REGISTRY_MODEL_OWNERS_H_
#define FABRIQUE_SERVICES_REGISTRY_MODEL_OWNERS_H_

// Which squad owns what the registry keeps, for the access guard's rules
// (libs/auth/tables/registry.cc) and for the lists it filters: a model names its owner squad,
// and everything else (versions, aliases, policies, promotion requests, audit entries, watch
// events) belongs to a model.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/method_table.h"
#include "libs/registry/registry_store.h"

namespace fabrique::services {

// The guard's owner lookup over `store` (not owned; must outlive it): model and promotion
// request (its model's squad); NOT_FOUND naming a missing one, INTERNAL for another kind.
auth::OwnerLookup ModelOwners(const registry::RegistryStore* store);

// Owner squads of models, each read once: for a call that filters many records by model.
class ModelOwnerCache {
 public:
  explicit ModelOwnerCache(const registry::RegistryStore* store) : store_(store) {}
  // The owner squad of `model`; "" for a model that does not exist (any more).
  const std::string& OwnerOf(const std::string& model);

 private:
  const registry::RegistryStore* store_;
  absl::flat_hash_map<std::string, std::string> owners_;
};

// The model an audit entry's target ("models/fraud", "models/fraud/aliases/production") is
// about; "" when it is about none.
absl::string_view ModelOfTarget(absl::string_view target);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_REGISTRY_MODEL_OWNERS_H_
