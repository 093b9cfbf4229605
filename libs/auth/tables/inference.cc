// The inference server's two services: fabrique.v1.EntityInference and the Open Inference
// Protocol's inference.GRPCInferenceService. Scoring and per-model metadata are checked in the
// squad owning the model; server-wide questions need inference.read in some squad.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& EntityInferenceMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"Predict", OwnerOf("inference.predict", kModel, "model.model")},
      {"ListServedModels", InAnySquad("inference.read")},
      {"GetServedModel", OwnerOf("inference.read", kModel, "name")},
      // The server appends the figures as itself; the caller must be allowed to evaluate.
      {"ValidateCapacity", OwnerOf("models.evaluate", kModel, "version.model")},
  };
  return *table;
}

const MethodTable& OpenInferenceMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"ServerLive", InAnySquad("inference.read")},
      {"ServerReady", InAnySquad("inference.read")},
      {"ServerMetadata", InAnySquad("inference.read")},
      {"ModelReady", OwnerOf("inference.read", kModel, "name")},
      {"ModelMetadata", OwnerOf("inference.read", kModel, "name")},
      {"ModelInfer", OwnerOf("inference.predict", kModel, "model_name")},
  };
  return *table;
}

}  // namespace fabrique::auth
