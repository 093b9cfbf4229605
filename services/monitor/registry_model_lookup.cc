#include "services/monitor/registry_model_lookup.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

std::function<absl::StatusOr<v1::Model>(const std::string& model)> RegistryModelLookup(
    client::RegistryClient registry) {
  auto shared = std::make_shared<const client::RegistryClient>(std::move(registry));
  return [shared](const std::string& model) -> absl::StatusOr<v1::Model> {
    v1::GetModelRequest request;
    request.set_name(model);
    return shared->Call(&client::RegistryClient::Stub::GetModel, request,
                        absl::StrCat("GetModel ", model));
  };
}

}  // namespace fabrique::services
