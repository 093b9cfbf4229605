#include "libs/monitoring/alerts/alert_storage.h"

#include <utility>

namespace fabrique::monitoring {

absl::StatusOr<std::unique_ptr<kv::Store>> OpenAlertStorage(const std::string& dir) {
  kv::StoreOptions options;
  options.path = dir;
  options.column_families = {kPoliciesFamily, kAlertsFamily, kOpenAlertsFamily, kRetrainFamily};
  options.sync_writes = true;
  // A few thousand small records: a small cache and memtable are plenty.
  options.block_cache_bytes = size_t{8} << 20;
  options.write_buffer_bytes = size_t{4} << 20;
  options.background_jobs = 1;
  return kv::Store::Open(std::move(options));
}

}  // namespace fabrique::monitoring
