#ifndef FABRIQUE_LIBS_SERVER_SERVICE_STATE_H_
#define FABRIQUE_LIBS_SERVER_SERVICE_STATE_H_

// The state of a stateful service: everything under its one --data_dir. Opening it creates the
// folder, opens the service's RocksDB store at DATA_DIR/kv (with the families the service needs
// plus "meta"), and checks that the folder is this service's: the first open records the
// service's name and the layout version, and a later open by another service (two services
// pointed at one folder) or of a layout this build does not know is refused before anything is
// written. A folder another running process holds is refused naming it and its pid
// (data_dir_lock.h).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/kv/store.h"
#include "libs/server/data_dir_lock.h"
#include "prometheus/collectable.h"

namespace fabrique::server {

struct ServiceStateOptions {
  // Folder holding all of the service's state; created with its parents if missing. Required.
  std::string data_dir;
  // Short name of the service that owns the folder ("features"). Required.
  std::string service_name;
  // Column families the service needs besides "default" and "meta". Default: none.
  std::vector<std::string> column_families = {};
  // Whether writes fsync the write-ahead log by default (kv::StoreOptions::sync_writes).
  // Default: true: a service acknowledges only what survives a power loss.
  bool sync_writes = true;
  // Collects RocksDB statistics for the block-cache metrics (a few percent of CPU). Default: true.
  bool enable_statistics = true;
  // Adjusts the store's options before it opens (compaction filters, cache sizes). Default: none.
  std::function<void(kv::StoreOptions*)> configure_store = nullptr;
};

class ServiceState {
 public:
  // Layout version of DATA_DIR this build writes; a folder with a newer one is refused.
  static constexpr int kLayoutVersion = 1;

  // Errors: INVALID_ARGUMENT for missing options; FAILED_PRECONDITION when the folder belongs
  // to another service or has a newer layout, or cannot be created; UNAVAILABLE when another
  // process holds it ("fabrique-features is already running on DIR (pid N): ..."); DATA_LOSS
  // when it is corrupt.
  static absl::StatusOr<std::unique_ptr<ServiceState>> Open(ServiceStateOptions options);

  kv::Store& store() { return *store_; }
  // The store's metrics (block cache, compaction), for ServiceHost::AddCollectable.
  std::shared_ptr<prometheus::Collectable> metrics() const { return metrics_; }
  const std::string& data_dir() const { return options_.data_dir; }

 private:
  ServiceState(ServiceStateOptions options, std::unique_ptr<DataDirLock> lock,
               std::unique_ptr<kv::Store> store);

  ServiceStateOptions options_;
  // Declared before the store, so the claim is released only after the store has closed.
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<kv::Store> store_;
  std::shared_ptr<prometheus::Collectable> metrics_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SERVICE_STATE_H_
