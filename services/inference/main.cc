// fabrique-inference: the inference server binary (see --help). Stateless: models come from the
// registry, features from the feature store.
// Wired in one function, in order: flags -> identity -> services -> server.

#include "absl/status/status.h"
#include "libs/core/status_macros.h"
#include "libs/core/version.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/open_inference_service.h"

namespace fabrique::services {
namespace {

absl::Status Run(const server::ServiceFlags& flags) {
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  // Identity: the guard every call is checked by, and fabrique.v1.Access (whoami, can-i).
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  // Services.
  OpenInferenceService open_inference(core::kVersion, access->guard());
  EntityInferenceService entity_inference;
  host->AddService(&open_inference, inference::GRPCInferenceService::service_full_name(),
                   std::string(flags.info->area));
  host->AddService(&entity_inference, fabrique::v1::EntityInference::service_full_name(),
                   std::string(flags.info->area));
  // Server: serves until SIGTERM/SIGINT, then drains and stops.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(argc, argv, "inference", nullptr, fabrique::services::Run);
}
