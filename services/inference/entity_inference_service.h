#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_

// The adapter of Fabrique's own entity-keyed prediction API, where the server fetches the
// online features itself. Its calls come with inference serving (a later issue) and answer
// UNIMPLEMENTED with a message saying so until then.

#include "fabrique/v1/inference.grpc.pb.h"

namespace fabrique::services {

class EntityInferenceService final : public fabrique::v1::EntityInference::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
