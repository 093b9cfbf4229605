// fabrique-features: the feature store binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include "absl/status/status.h"
#include "libs/core/status_macros.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/features/feature_store_service.h"

namespace fabrique::services {
namespace {

absl::Status Run(const server::ServiceFlags& flags) {
  // Storage: everything under --data_dir.
  ASSIGN_OR_RETURN(auto state, server::ServiceState::Open({flags.data_dir, "features"}));
  // Services.
  FeatureStoreService service;
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  host->AddService(&service, fabrique::v1::FeatureStore::service_full_name(), "the feature store (issue 3)");
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  fabrique::server::ServiceDefaults defaults;
  defaults.service_name = "features";
  defaults.summary =
      "Serves the feature store: entities and feature groups with versioned schemas, streaming ingest,\n"
      "online lookup with TTL, history, point-in-time training sets, catalog and lineage.";
  defaults.port = 7101;
  defaults.metrics_port = 9101;
  defaults.stateful = true;
  return fabrique::server::ServiceMain(argc, argv, defaults, nullptr, fabrique::services::Run);
}
