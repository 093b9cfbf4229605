#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_

// The adapter of Fabrique's own entity-keyed prediction API, where the server fetches the
// online features itself. Its calls are not built yet: until they
// are, they answer UNIMPLEMENTED with a message saying so.

#include "fabrique/v1/inference.grpc.pb.h"

namespace fabrique::services {

class EntityInferenceService final : public fabrique::v1::EntityInference::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
