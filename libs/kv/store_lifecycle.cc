// The lifecycle of a Store: validating options, creating directories, choosing the families to
// open, RocksDB's options, and closing.

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/core/open_files.h"
#include "libs/core/status_macros.h"
#include "libs/kv/env.h"
#include "libs/kv/rocksdb_status.h"
#include "libs/kv/store.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"

namespace fabrique::kv {
namespace {

// Tells StoreOptions::after_flush that a flush completed.
class AfterFlush final : public rocksdb::EventListener {
 public:
  explicit AfterFlush(std::function<void()> call) : call_(std::move(call)) {}
  void OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo&) override { call_(); }

 private:
  std::function<void()> call_;
};

absl::Status ValidateOptions(const StoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError(
        "StoreOptions.path is empty; set it to the directory that holds (or will hold) the "
        "database");
  }
  if (options.in_memory && options.env != nullptr) {
    return absl::InvalidArgumentError(
        "StoreOptions.in_memory and StoreOptions.env are both set; set one (in_memory makes its "
        "own in-memory Env, NewInMemoryEnv() gives one that can outlive the Store)");
  }
  if (options.bloom_bits_per_key < 0) {
    return absl::InvalidArgumentError("StoreOptions.bloom_bits_per_key must be >= 0 (0 = off)");
  }
  if (options.write_buffer_bytes == 0) {
    return absl::InvalidArgumentError("StoreOptions.write_buffer_bytes must be > 0");
  }
  if (options.max_open_files < -1 || (options.max_open_files > 0 && options.max_open_files < 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("StoreOptions.max_open_files is ", options.max_open_files,
                     "; use -1 (every file), 0 (a share of the process's open-file limit) or at "
                     "least 20"));
  }
  if (options.background_jobs < 1) {
    return absl::InvalidArgumentError("StoreOptions.background_jobs must be >= 1");
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& name : options.column_families) {
    if (name.empty()) {
      return absl::InvalidArgumentError("StoreOptions.column_families holds an empty name");
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("StoreOptions.column_families lists '", name, "' twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int ResolvedMaxOpenFiles(int configured, int64_t process_limit) {
  if (configured != 0) return configured;
  if (process_limit < 0) return -1;
  // A quarter: the rest is left to the process's connections, logs and other stores, and a
  // store past it still reads every file, only opening the coldest again.
  constexpr int64_t kFloor = 64;
  return static_cast<int>(std::min<int64_t>(std::max(kFloor, process_limit / 4), 1 << 30));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(Options options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<Store> store(new Store(std::move(options)));
  RETURN_IF_ERROR(store->OpenDatabase());
  return store;
}

Store::Store(Options options) : options_(std::move(options)) {
  if (options_.in_memory) owned_env_ = NewInMemoryEnv();
  env_ = owned_env_ != nullptr     ? owned_env_.get()
         : options_.env != nullptr ? options_.env
                                   : rocksdb::Env::Default();
  if (options_.block_cache_bytes > 0)
    block_cache_ = rocksdb::NewLRUCache(options_.block_cache_bytes);
  if (options_.enable_statistics) statistics_ = rocksdb::CreateDBStatistics();
}

Store::~Store() { CloseImpl(/*force=*/true).IgnoreError(); }

absl::Status Store::OpenDatabase() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, FamiliesToOpen());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const std::string& name : names) descriptors.emplace_back(name, MakeFamilyOptions(name));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status status =
      rocksdb::DB::Open(MakeDbOptions(), options_.path, descriptors, &handles, &db_);
  if (!status.ok()) {
    db_ = nullptr;
    return FromRocksDbStatus(status, absl::StrCat("opening the database at ", options_.path));
  }
  absl::MutexLock lock(&families_mutex_);
  for (rocksdb::ColumnFamilyHandle* handle : handles) families_[handle->GetName()] = handle;
  return absl::OkStatus();
}

// Returns every family the database has plus the listed ones it lacks, after checking that the
// options allow creating what is missing. RocksDB refuses to open a database without naming all
// of its families, and a service restarted with a shorter list must still open.
absl::StatusOr<std::vector<std::string>> Store::FamiliesToOpen() {
  const std::string& path = options_.path;
  rocksdb::Status exists = env_->FileExists(path + "/CURRENT");
  if (!exists.ok() && !exists.IsNotFound()) {
    return FromRocksDbStatus(exists, absl::StrCat("checking for a database at ", path));
  }
  const bool found = exists.ok();
  if (!found && !options_.create_if_missing) {
    return absl::NotFoundError(absl::StrCat("no database at ", path,
                                            " and StoreOptions.create_if_missing is false; check "
                                            "the path, or allow creating the database"));
  }
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  if (found) {
    rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(MakeDbOptions(), path, &names);
    if (!listed.ok()) {
      return FromRocksDbStatus(
          listed, absl::StrCat("listing the column families of the database at ", path));
    }
  }
  for (const std::string& name : options_.column_families) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    if (!options_.create_missing_column_families) {
      return absl::NotFoundError(
          absl::StrCat("column family '", name, "' does not exist in the database at ", path,
                       " and StoreOptions.create_missing_column_families is false"));
    }
    names.push_back(name);
  }
  if (!found) RETURN_IF_ERROR(CreateDirectories());
  return names;
}

// RocksDB creates only the last directory of the path; services put the store under a data dir
// that may not exist yet, so every missing parent is created here, through the Env seam.
absl::Status Store::CreateDirectories() const {
  const std::string& path = options_.path;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string dir = path.substr(0, i);
    rocksdb::Status status = env_->CreateDirIfMissing(dir);
    if (!status.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the database directory ", dir, " for ", path, ": ",
                       status.ToString(), "; check that every parent is a writable directory"));
    }
  }
  return absl::OkStatus();
}

rocksdb::DBOptions Store::MakeDbOptions() const {
  rocksdb::DBOptions db;
  db.env = env_;
  db.create_if_missing = options_.create_if_missing;
  // FamiliesToOpen has already applied StoreOptions.create_missing_column_families.
  db.create_missing_column_families = true;
  db.max_background_jobs = options_.background_jobs;
  db.max_open_files = ResolvedMaxOpenFiles(options_.max_open_files, core::OpenFileLimit());
  db.allow_concurrent_memtable_write = options_.concurrent_memtable_writes;
  db.enable_pipelined_write = options_.pipelined_writes;
  db.db_write_buffer_size = options_.total_write_buffer_bytes;
  db.statistics = statistics_;
  if (options_.after_flush) {
    db.listeners.push_back(std::make_shared<AfterFlush>(options_.after_flush));
  }
  // RocksDB's info LOG files pile up at one per open; a few are enough to debug a recent start.
  db.keep_log_file_num = 5;
  return db;
}

rocksdb::ColumnFamilyOptions Store::MakeFamilyOptions(const std::string& name) const {
  rocksdb::ColumnFamilyOptions family;
  family.write_buffer_size = options_.write_buffer_bytes;
  // Sizes levels from the bottom up: less space amplification, RocksDB's recommended setting.
  family.level_compaction_dynamic_level_bytes = true;
  rocksdb::BlockBasedTableOptions table;
  if (block_cache_ != nullptr) {
    table.block_cache = block_cache_;
  } else {
    table.no_block_cache = true;
  }
  if (options_.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options_.bloom_bits_per_key));
  }
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (options_.configure_family) options_.configure_family(name, &family);
  return family;
}

absl::Status Store::Close() { return CloseImpl(/*force=*/false); }

absl::Status Store::CloseImpl(bool force) {
  if (db_ == nullptr) return absl::OkStatus();
  uint64_t snapshots = 0;
  if (!force && db_->GetIntProperty(rocksdb::DB::Properties::kNumSnapshots, &snapshots) &&
      snapshots > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot close the store at ", options_.path, ": ", snapshots,
                     " snapshot(s) still alive; destroy every Snapshot first"));
  }
  // Not syncing the log on close would make a clean shutdown less durable than a sync write.
  absl::Status status = core::WithContext(SyncWalImpl(), "closing");
  {
    absl::MutexLock lock(&families_mutex_);
    for (const auto& [name, handle] : families_) {
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    families_.clear();
  }
  absl::Status closed =
      FromRocksDbStatus(db_->Close(), absl::StrCat("closing the database at ", options_.path));
  if (status.ok()) status = closed;
  // RocksDB requires the DB to be deleted whatever Close() returned.
  delete db_;
  db_ = nullptr;
  return status;
}

}  // namespace fabrique::kv
