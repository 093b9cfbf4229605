#ifndef FABRIQUE_SERVICES_INFERENCE_SERVED_MODELS_H_
#define FABRIQUE_SERVICES_INFERENCE_SERVED_MODELS_H_

// What this server serves, as its APIs report it: fabrique.v1.ServedModel for ListServedModels
// and GetServedModel, and the lookups the Open Inference Protocol's model calls share.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/inference.pb.h"
#include "libs/server/access.h"
#include "libs/serving/served_model_status.h"
#include "services/inference/serving_view.h"

namespace fabrique::services {

// The Open Inference Protocol's version string as a number: "" = 0 (the traffic policy).
// INVALID_ARGUMENT naming `field` when it is not a positive whole number.
absl::StatusOr<int64_t> ParseModelVersion(absl::string_view text, absl::string_view field);

// `model` in `models`; NOT_FOUND naming it when absent.
absl::StatusOr<const serving::ServedModelStatus*> FindServedModel(
    const std::vector<serving::ServedModelStatus>& models, absl::string_view model);

// The versions of `model` that answer now (READY), as the protocol's version strings.
std::vector<std::string> ReadyVersions(const serving::ServedModelStatus& model);

// `model` as the API reports it, its Open Inference Protocol metadata from the signature of the
// primary (or, before one is READY, of the newest version held).
v1::ServedModel ServedModelProto(const ServingView& serving,
                                 const serving::ServedModelStatus& model);

// ListServedModels: the models the caller sees (owned by a squad it reads in), with the
// registry's revision and connection.
v1::ListServedModelsResponse ListServedModels(const ServingView& serving,
                                              const server::Caller& caller);
// GetServedModel: NOT_FOUND naming the model when it is not served.
absl::StatusOr<v1::ServedModel> GetServedModel(const ServingView& serving, absl::string_view name);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_SERVED_MODELS_H_
