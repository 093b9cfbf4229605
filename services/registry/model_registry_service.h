#ifndef FABRIQUE_SERVICES_REGISTRY_MODEL_REGISTRY_SERVICE_H_
#define FABRIQUE_SERVICES_REGISTRY_MODEL_REGISTRY_SERVICE_H_

// The gRPC adapter of `fabrique::v1::ModelRegistry`. It will validate, call the domain core, map
// the status and record metrics, as every adapter does; its calls are built with the model registry
// (issue 4). Until then every call answers UNIMPLEMENTED with a message naming that work (see
// libs/server/not_built_interceptor.h), never a fake success.

#include "fabrique/v1/registry.grpc.pb.h"

namespace fabrique::services {

class ModelRegistryService final : public fabrique::v1::ModelRegistry::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_REGISTRY_MODEL_REGISTRY_SERVICE_H_
