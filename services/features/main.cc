// fabrique-features: the feature store binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include <memory>

#include "absl/status/status.h"
#include "libs/core/executor.h"
#include "libs/core/status_macros.h"
#include "libs/features/store/feature_store.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/features/cache_metrics.h"
#include "services/features/feature_owners.h"
#include "services/features/feature_store_service.h"

namespace fabrique::services {
namespace {

// Threads that run online lookups (0 = one per core); set by --lookup_threads.
int lookup_threads = 0;
// RocksDB block cache, MiB; set by --block_cache_mib.
int block_cache_mib = 512;
// The tile cache of aggregate lookups, MiB; set by --tile_cache_mib.
int tile_cache_mib = static_cast<int>(features::FeatureStoreOptions().tile_cache_bytes >> 20);
// The online row cache of lookups, MiB; set by --online_cache_mib.
int online_cache_mib = static_cast<int>(features::FeatureStoreOptions().online_cache_bytes >> 20);

absl::Status Run(const server::ServiceFlags& flags) {
  if (block_cache_mib < 0) {
    return absl::InvalidArgumentError("--block_cache_mib must be >= 0 (0 = no block cache)");
  }
  if (tile_cache_mib < 0) {
    return absl::InvalidArgumentError("--tile_cache_mib must be >= 0 (0 = no tile cache)");
  }
  if (online_cache_mib < 0) {
    return absl::InvalidArgumentError("--online_cache_mib must be >= 0 (0 = no row cache)");
  }
  // Storage: everything under --data_dir, with the history family's retention filter.
  auto retention = std::make_shared<features::RetentionPolicies>();
  server::ServiceStateOptions state_options;
  state_options.data_dir = flags.data_dir;
  state_options.service_name = std::string(flags.info->name);
  state_options.configure_store = [&retention](kv::StoreOptions* options) {
    features::FeatureStore::ConfigureStore(options, core::Clock::Real(), retention);
    options->block_cache_bytes = static_cast<size_t>(block_cache_mib) << 20;
  };
  ASSIGN_OR_RETURN(auto state, server::ServiceState::Open(state_options));
  // Cores.
  features::FeatureStoreOptions store_options;
  store_options.store = &state->store();
  store_options.retention = retention;
  store_options.tile_cache_bytes = static_cast<size_t>(tile_cache_mib) << 20;
  store_options.online_cache_bytes = static_cast<size_t>(online_cache_mib) << 20;
  ASSIGN_OR_RETURN(auto feature_store, features::FeatureStore::Create(store_options));
  // Held here: the host keeps only weak references to what it scrapes.
  const auto tile_cache_metrics = TileCacheMetrics(feature_store->aggregations().tile_cache());
  const auto row_cache_metrics = RowCacheMetrics(feature_store->online_cache());
  // Declared before the host, so it is destroyed after the server has drained.
  ASSIGN_OR_RETURN(auto lookups, core::Executor::Create({"online lookup", lookup_threads}));
  // Services.
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  host->AddCollectable(state->metrics());
  host->AddCollectable(tile_cache_metrics);
  host->AddCollectable(row_cache_metrics);
  // Identity: every call is checked against --policy in the squad owning what it touches.
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  FeatureStoreService service(
      feature_store.get(), lookups.get(),
      server::ServiceAccess(access->guard(), v1::FeatureStore::service_full_name(),
                            FeatureOwners(feature_store.get())),
      host->metrics());
  host->AddService(&service, v1::FeatureStore::service_full_name(), std::string(flags.info->area));
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  const absl::Status served = host->Run();
  // Every personal-data read the server answered is written to the access log before storage
  // closes.
  const absl::Status logged = feature_store->access_log().Close();
  return served.ok() ? logged : served;
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(
      argc, argv, "features",
      [](fabrique::core::FlagSet& flags) {
        flags.Add("lookup_threads", &fabrique::services::lookup_threads,
                  "Threads that run online lookups that need the disk (lookups answered from "
                  "memory run on gRPC's threads); 0 = one per core");
        flags.Add("block_cache_mib", &fabrique::services::block_cache_mib,
                  "RocksDB block cache in MiB, shared by every column family: size it to hold "
                  "the online working set (about entities x encoded row bytes); 0 = none");
        flags.Add("tile_cache_mib", &fabrique::services::tile_cache_mib,
                  "Tiles of recently looked-up entities kept for aggregate lookups, in MiB: size "
                  "it to hold the entities looked up often (about 0.6 KiB each for 1 h and 1 d "
                  "windows of one input; see fabrique_features_tile_cache_*); 0 = none");
        flags.Add("online_cache_mib", &fabrique::services::online_cache_mib,
                  "Online rows of recently looked-up entities kept in memory, in MiB, so their "
                  "lookups skip RocksDB: size it to hold the entities looked up often (about "
                  "310 bytes each for 50 float features; see fabrique_features_row_cache_*); "
                  "0 = none");
      },
      fabrique::services::Run);
}
