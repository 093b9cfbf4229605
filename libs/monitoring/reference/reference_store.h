#ifndef FABRIQUE_LIBS_MONITORING_REFERENCE_REFERENCE_STORE_H_
#define FABRIQUE_LIBS_MONITORING_REFERENCE_REFERENCE_STORE_H_

// Where the monitor keeps the reference profile of each model version it watches: put
// explicitly (PutReferenceProfile) or taken once from the registry, then read by every drift
// report of that version without asking the registry again. One RocksDB database in its own
// directory (DATA_DIR/reference), keyed by model and version.
//
//   ASSIGN_OR_RETURN(auto store, ReferenceStore::Open({data_dir + "/reference"}));
//   RETURN_IF_ERROR(store->Put(profile));
//   ASSIGN_OR_RETURN(std::optional<v1::ReferenceProfile> kept, store->Get("fraud", 3));

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "libs/kv/store.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace fabrique::monitoring {

struct ReferenceStoreOptions {
  // Directory of the database, e.g. <data_dir>/reference; created when missing. Required.
  std::string dir;
  // The rocksdb::Env files go through (kv's seam for in-memory tests). Not owned. Default:
  // nullptr = the real disk.
  rocksdb::Env* env = nullptr;
};

class ReferenceStore {
 public:
  // Opens (or creates) the database. INVALID_ARGUMENT for an empty dir; otherwise the errors of
  // kv::Store::Open (UNAVAILABLE when another process holds it, DATA_LOSS when corrupt).
  static absl::StatusOr<std::unique_ptr<ReferenceStore>> Open(ReferenceStoreOptions options);

  // Stores `profile` under its model_version, replacing any (fsynced). INVALID_ARGUMENT when it
  // fails CheckProfile (profile_check.h).
  absl::Status Put(const v1::ReferenceProfile& profile);
  // The profile of `model` `version`, or nullopt when none is kept. DATA_LOSS for a stored
  // profile that no longer parses.
  absl::StatusOr<std::optional<v1::ReferenceProfile>> Get(absl::string_view model,
                                                          int64_t version) const;

 private:
  ReferenceStore(std::unique_ptr<kv::Store> store, kv::ColumnFamily profiles)
      : store_(std::move(store)), profiles_(profiles) {}

  std::unique_ptr<kv::Store> store_;
  kv::ColumnFamily profiles_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REFERENCE_REFERENCE_STORE_H_
