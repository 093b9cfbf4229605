#include "services/monitor/registry_class_labels.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

std::function<absl::StatusOr<std::vector<std::string>>(const std::string& model, int64_t version)>
RegistryClassLabels(client::RegistryClient registry) {
  auto shared = std::make_shared<const client::RegistryClient>(std::move(registry));
  return [shared](const std::string& model,
                  int64_t version) -> absl::StatusOr<std::vector<std::string>> {
    v1::GetVersionRequest request;
    request.mutable_ref()->set_model(model);
    request.mutable_ref()->set_version(version);
    absl::StatusOr<v1::ModelVersion> found =
        shared->Call(&client::RegistryClient::Stub::GetVersion, request,
                     absl::StrCat("GetVersion ", model, " ", version));
    if (!found.ok()) return found.status();
    const auto& labels = found->signature().class_labels();
    return std::vector<std::string>(labels.begin(), labels.end());
  };
}

}  // namespace fabrique::services
