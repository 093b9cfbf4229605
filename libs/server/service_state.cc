#include "libs/server/service_state.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/kv/write_batch.h"
#include "libs/server/memory_return.h"
#include "libs/server/store_metrics.h"

namespace fabrique::server {
namespace {

constexpr char kMetaFamily[] = "meta";
constexpr char kOwnerKey[] = "service";
constexpr char kLayoutKey[] = "layout_version";

}  // namespace

ServiceState::ServiceState(ServiceStateOptions options, std::unique_ptr<DataDirLock> lock,
                           std::unique_ptr<kv::Store> store)
    : options_(std::move(options)),
      lock_(std::move(lock)),
      store_(std::move(store)),
      metrics_(std::make_shared<StoreMetrics>(store_.get(), options_.service_name)) {}

absl::StatusOr<std::unique_ptr<ServiceState>> ServiceState::Open(ServiceStateOptions options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--data_dir is empty: ", options.service_name,
                                                   " needs a folder for its state"));
  }
  if (options.service_name.empty()) {
    return absl::InvalidArgumentError("ServiceStateOptions.service_name is required");
  }
  // Claimed before RocksDB opens, so a second process is told who holds the folder instead of
  // RocksDB's lock error.
  ASSIGN_OR_RETURN(
      std::unique_ptr<DataDirLock> lock,
      DataDirLock::Acquire({options.data_dir, absl::StrCat("fabrique-", options.service_name)}));
  kv::StoreOptions store_options;
  store_options.path = absl::StrCat(options.data_dir, "/kv");
  store_options.column_families = options.column_families;
  store_options.column_families.push_back(kMetaFamily);
  store_options.sync_writes = options.sync_writes;
  store_options.enable_statistics = options.enable_statistics;
  // A flush frees a memtable: hand it back to the system soon rather than at the next interval.
  store_options.after_flush = &MemoryReturn::Soon;
  if (options.configure_store) options.configure_store(&store_options);
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(store_options));
  if (!store.ok()) {
    return core::WithContext(store.status(), absl::StrCat("opening the ", options.service_name,
                                                          " state in ", options.data_dir));
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily meta, (*store)->Family(kMetaFamily));

  absl::StatusOr<std::string> owner = (*store)->Get(meta, kOwnerKey);
  if (owner.ok()) {
    if (*owner != options.service_name) {
      return absl::FailedPreconditionError(absl::StrCat(
          options.data_dir, " holds the state of fabrique-", *owner, ", not of fabrique-",
          options.service_name, "; give each service its own --data_dir"));
    }
    ASSIGN_OR_RETURN(std::string layout, (*store)->Get(meta, kLayoutKey));
    int version = 0;
    if (!absl::SimpleAtoi(layout, &version) || version > kLayoutVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          options.data_dir, " has layout version ", layout, "; this build reads up to ",
          kLayoutVersion, ": upgrade fabrique-", options.service_name));
    }
  } else if (absl::IsNotFound(owner.status())) {
    // A new folder: claim it. Both keys in one batch, so a crash leaves both or neither.
    kv::WriteBatch batch;
    batch.Put(meta, kOwnerKey, options.service_name)
        .Put(meta, kLayoutKey, absl::StrCat(kLayoutVersion));
    RETURN_IF_ERROR((*store)->Write(batch, kv::SyncMode::kSync));
    core::Log(core::LogLevel::kInfo, "state_created",
              {{"service", options.service_name}, {"data_dir", options.data_dir}});
  } else {
    return owner.status();
  }
  return std::unique_ptr<ServiceState>(
      new ServiceState(std::move(options), std::move(lock), *std::move(store)));
}

}  // namespace fabrique::server
