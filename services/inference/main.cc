// fabrique-inference: the inference server binary (see --help). Stateless: models come from the
// registry, features from the feature store.
// Wired in one function, in order: flags -> cores -> services -> server.

#include "absl/status/status.h"
#include "libs/core/status_macros.h"
#include "libs/core/version.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/open_inference_service.h"

namespace fabrique::services {
namespace {

constexpr char kServingArea[] = "inference serving (a later issue)";

absl::Status Run(const server::ServiceFlags& flags) {
  // Services.
  OpenInferenceService open_inference(core::kVersion);
  EntityInferenceService entity_inference;
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  host->AddService(&open_inference, inference::GRPCInferenceService::service_full_name(),
                   kServingArea);
  host->AddService(&entity_inference, fabrique::v1::EntityInference::service_full_name(),
                   kServingArea);
  // Server: serves until SIGTERM/SIGINT, then drains and stops.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  fabrique::server::ServiceDefaults defaults;
  defaults.service_name = "inference";
  defaults.summary =
      "Serves models over the Open Inference Protocol (KServe v2) and Fabrique's entity-keyed\n"
      "prediction API: dynamic batching, hot swap, canary and shadow, prediction logging.";
  defaults.port = 7104;
  defaults.metrics_port = 9104;
  defaults.stateful = false;
  return fabrique::server::ServiceMain(argc, argv, defaults, nullptr, fabrique::services::Run);
}
