#ifndef FABRIQUE_SERVICES_MONITOR_REGISTRY_MODEL_LOOKUP_H_
#define FABRIQUE_SERVICES_MONITOR_REGISTRY_MODEL_LOOKUP_H_

// The model directory's lookup (model_directory.h) on the real registry, through libs/client's
// typed registry client, as the monitor's own identity (its client certificate, or plaintext
// under --insecure). One attempt per lookup with a short deadline: the directory caches failures,
// and a record must never wait long on the registry.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/client/typed_clients.h"

namespace fabrique::services {

// Reads a model with GetModel; the registry's NOT_FOUND stays NOT_FOUND.
std::function<absl::StatusOr<v1::Model>(const std::string& model)> RegistryModelLookup(
    client::RegistryClient registry);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_REGISTRY_MODEL_LOOKUP_H_
