#ifndef FABRIQUE_LIBS_KV_STORE_H_
#define FABRIQUE_LIBS_KV_STORE_H_

// Store: one RocksDB database with column families, the storage under every stateful Fabrique
// service. It adds to RocksDB what each service would otherwise redo: absl::Status errors that
// name the path and family, column-family handles resolved once, RAII snapshots, bounded
// iterators, atomic multi-family batches with a per-write durability choice, and an Env seam so
// tests run in memory.
//
//   StoreOptions options;
//   options.path = data_dir + "/kv";
//   options.column_families = {"online", "history"};
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(std::move(options)));
//   ASSIGN_OR_RETURN(ColumnFamily online, store->Family("online"));
//   RETURN_IF_ERROR(store->Put(online, key, value));
//
// Thread-safety: every method may be called from any thread at once, except Close() (and the
// destructor), which must not overlap with any other call.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "libs/kv/column_family.h"
#include "libs/kv/iterator.h"
#include "libs/kv/key_range.h"
#include "libs/kv/options.h"
#include "libs/kv/snapshot.h"
#include "libs/kv/write_batch.h"

namespace rocksdb {
class Cache;
class DB;
class Env;
class Statistics;
struct ColumnFamilyOptions;
struct DBOptions;
struct ReadOptions;
struct WriteOptions;
}  // namespace rocksdb

namespace fabrique::kv {

class Store {
 public:
  using Options = StoreOptions;

  // Opens (or creates) the database described by `options`, with every listed column family and
  // every family already in it. Errors:
  //   INVALID_ARGUMENT     options that can never work (empty path, duplicate family names,
  //                        in_memory together with env, ...)
  //   NOT_FOUND            no database at the path and !create_if_missing, or a listed family
  //                        missing and !create_missing_column_families
  //   FAILED_PRECONDITION  the directory cannot be created (a parent is a file, no permission)
  //   UNAVAILABLE          the database is locked by another open Store or process
  //   DATA_LOSS            the database is corrupt
  static absl::StatusOr<std::unique_ptr<Store>> Open(Options options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Closes the store if Close() was not called, ignoring errors.
  ~Store();

  // The family named `name`, or NOT_FOUND naming it and the families that exist.
  absl::StatusOr<ColumnFamily> Family(absl::string_view name) const;
  // The "default" family, which every database has.
  ColumnFamily DefaultFamily() const;
  // Names of every open family, sorted.
  std::vector<std::string> FamilyNames() const;
  // Creates a family while the store is open (for key spaces only known at run time); it is
  // reopened automatically from then on. ALREADY_EXISTS if a family has that name.
  absl::StatusOr<ColumnFamily> CreateFamily(absl::string_view name);

  // Returns the value of `key`, or NOT_FOUND.
  absl::StatusOr<std::string> Get(ColumnFamily family, absl::string_view key,
                                  const ReadOptions& options = {}) const;
  // Looks up many keys of one family in one call, reading from one consistent view; much faster
  // than a loop of Get for the dozens of keys of an online feature lookup. result[i] is the value
  // of keys[i], or nullopt when absent. Any other failure fails the whole call.
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      ColumnFamily family, absl::Span<const std::string> keys,
      const ReadOptions& options = {}) const;

  // Sets `key` to `value` in `family`.
  absl::Status Put(ColumnFamily family, absl::string_view key, absl::string_view value,
                   SyncMode sync = SyncMode::kStoreDefault);
  // Removes `key` from `family`; removing an absent key is not an error.
  absl::Status Delete(ColumnFamily family, absl::string_view key,
                      SyncMode sync = SyncMode::kStoreDefault);
  // Commits every operation of `batch` atomically (see WriteBatch). A batch whose status() is not
  // OK, or that was built for another Store, is refused with INVALID_ARGUMENT and nothing is
  // written. The batch is left as it was, so it can be cleared and reused.
  absl::Status Write(WriteBatch& batch, SyncMode sync = SyncMode::kStoreDefault);

  // Takes a snapshot of the whole store; see snapshot.h.
  Snapshot TakeSnapshot() const;

  // Returns an unpositioned iterator over the keys of `family` in `range`; call SeekToFirst,
  // SeekToLast or Seek before reading. See iterator.h.
  absl::StatusOr<std::unique_ptr<Iterator>> NewIterator(ColumnFamily family,
                                                        KeyRange range = KeyRange::All(),
                                                        const ReadOptions& options = {}) const;
  // Calls `visit` with each key and value of `family` in `range`, in key order, until it returns
  // false or the range ends. Returns the iteration's status.
  absl::Status Scan(ColumnFamily family, const KeyRange& range,
                    absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit,
                    const ReadOptions& options = {}) const;

  // Fsyncs the write-ahead log: every write acknowledged before the call becomes power-loss
  // durable. Lets a caller write many batches with kNoSync and pay for one fsync (group commit).
  absl::Status SyncWal();
  // Writes every family's memtable to SST files and waits for it.
  absl::Status Flush();
  // Compacts the whole of `family` now, so that compaction filters run and deleted data is
  // reclaimed. Slow on large families; meant for maintenance and tests.
  absl::Status Compact(ColumnFamily family);

  // The integer RocksDB property `property` of `family` (e.g. "rocksdb.estimate-num-keys",
  // "rocksdb.estimate-pending-compaction-bytes"), or INVALID_ARGUMENT if there is none such.
  absl::StatusOr<uint64_t> IntProperty(ColumnFamily family, absl::string_view property) const;
  // RocksDB's statistics when StoreOptions::enable_statistics, else null.
  std::shared_ptr<rocksdb::Statistics> statistics() const { return statistics_; }

  // Syncs the write-ahead log and closes the database. Returns FAILED_PRECONDITION, leaving the
  // store open, while a Snapshot is still alive. After a successful Close every other method
  // fails with FAILED_PRECONDITION. Calling it again is a no-op.
  absl::Status Close();

  const std::string& path() const { return options_.path; }
  // The RocksDB database, for what this library does not wrap yet (SST ingestion, checkpoints).
  // Prefer adding a wrapper here. Null after Close().
  rocksdb::DB* raw_db() const { return db_; }

 private:
  explicit Store(Options options);

  absl::Status OpenDatabase();
  absl::StatusOr<std::vector<std::string>> FamiliesToOpen();
  absl::Status CreateDirectories() const;
  rocksdb::DBOptions MakeDbOptions() const;
  rocksdb::ColumnFamilyOptions MakeFamilyOptions(const std::string& name) const;
  rocksdb::WriteOptions MakeWriteOptions(SyncMode sync) const;
  // INVALID_ARGUMENT unless `family` is a valid family of this store; FAILED_PRECONDITION after
  // Close().
  absl::Status CheckFamily(ColumnFamily family, absl::string_view operation) const;
  absl::Status CheckOpen(absl::string_view operation) const;
  absl::Status SyncWalImpl();
  // Closes the database; with `force`, even while snapshots are alive (from the destructor).
  absl::Status CloseImpl(bool force);

  const Options options_;
  // Declared before db_ so that it is destroyed after it: RocksDB uses the Env until it closes.
  std::unique_ptr<rocksdb::Env> owned_env_;
  rocksdb::Env* env_ = nullptr;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  rocksdb::DB* db_ = nullptr;

  mutable absl::Mutex families_mutex_;
  // Owned handles, destroyed in Close(). Families are never dropped while open, so a
  // ColumnFamily handed out stays valid until then.
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> families_
      ABSL_GUARDED_BY(families_mutex_);
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_STORE_H_
