#include "services/monitor/alert_owners.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

auth::OwnerLookup WithAlertOwners(auth::OwnerLookup models, const monitoring::AlertStore* alerts) {
  return [models = std::move(models), alerts](
             absl::string_view kind, absl::string_view name) -> absl::StatusOr<std::string> {
    if (kind != auth::kAlert) return models(kind, name);
    if (alerts == nullptr) {
      return absl::NotFoundError(absl::StrCat("alert '", name, "' not found"));
    }
    absl::StatusOr<v1::Alert> alert = alerts->Get(name);
    if (!alert.ok()) return alert.status();
    return models(auth::kModel, alert->model_version().model());
  };
}

}  // namespace fabrique::services
