#ifndef FABRIQUE_SERVICES_MONITOR_REGISTRY_CLASS_LABELS_H_
#define FABRIQUE_SERVICES_MONITOR_REGISTRY_CLASS_LABELS_H_

// The class labels of a model version (its signature's, in output index order) read from the
// registry with GetVersion, for back-testing a classifier whose outcomes name classes. One
// attempt per call, with the registry client's deadline.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/client/typed_clients.h"

namespace fabrique::services {

std::function<absl::StatusOr<std::vector<std::string>>(const std::string& model, int64_t version)>
RegistryClassLabels(client::RegistryClient registry);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_REGISTRY_CLASS_LABELS_H_
