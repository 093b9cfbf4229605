#include "libs/kv/store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"
#include "libs/kv/rocksdb_status.h"
#include "rocksdb/db.h"

namespace fabrique::kv {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Keys are binary; show them escaped and cut short so an error message stays one readable line.
std::string DescribeKey(absl::string_view key) {
  constexpr size_t kMaxShown = 64;
  std::string shown = absl::CHexEscape(key.substr(0, kMaxShown));
  if (key.size() > kMaxShown) absl::StrAppend(&shown, "... (", key.size(), " bytes)");
  return shown;
}

rocksdb::ReadOptions MakeReadOptions(const ReadOptions& options) {
  rocksdb::ReadOptions read;
  read.snapshot = options.snapshot != nullptr ? options.snapshot->get() : nullptr;
  read.fill_cache = options.fill_cache;
  read.total_order_seek = options.total_order_seek;
  if (options.memory_only) read.read_tier = rocksdb::kBlockCacheTier;
  return read;
}

// Marks the error of a memory-only read that needed the disk.
constexpr char kNotInMemoryPayload[] = "type.fabrique.dev/kv.NotInMemory";

absl::Status NotInMemoryError(absl::string_view key, absl::string_view family) {
  absl::Status status = absl::UnavailableError(
      absl::StrCat("key '", key, "' of column family '", family, "' is not in memory"));
  status.SetPayload(kNotInMemoryPayload, absl::Cord());
  return status;
}

}  // namespace

bool IsNotInMemory(const absl::Status& status) {
  return status.GetPayload(kNotInMemoryPayload).has_value();
}

rocksdb::WriteOptions Store::MakeWriteOptions(SyncMode sync) const {
  rocksdb::WriteOptions write;
  write.sync = sync == SyncMode::kSync || (sync == SyncMode::kStoreDefault && options_.sync_writes);
  return write;
}

absl::Status Store::CheckOpen(absl::string_view operation) const {
  if (db_ != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(operation, " on the store at ", options_.path, ", which is closed"));
}

absl::Status Store::CheckFamily(ColumnFamily family, absl::string_view operation) const {
  RETURN_IF_ERROR(CheckOpen(operation));
  if (!family.valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat(operation, " on an invalid ColumnFamily; get one from Store::Family()"));
  }
  if (family.owner() != this) {
    return absl::InvalidArgumentError(absl::StrCat(operation, " on column family '", family.name(),
                                                   "' of another Store than ", options_.path));
  }
  return absl::OkStatus();
}

absl::StatusOr<ColumnFamily> Store::Family(absl::string_view name) const {
  absl::MutexLock lock(&families_mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) return ColumnFamily(this, it->second);
  std::vector<std::string> open;
  for (const auto& [open_name, handle] : families_) open.push_back(open_name);
  std::sort(open.begin(), open.end());
  return absl::NotFoundError(absl::StrCat(
      "column family '", name, "' is not open in the store at ", options_.path,
      " (open: ", absl::StrJoin(open, ", "),
      "); list it in StoreOptions.column_families or create it with Store::CreateFamily()"));
}

ColumnFamily Store::DefaultFamily() const {
  absl::MutexLock lock(&families_mutex_);
  auto it = families_.find(rocksdb::kDefaultColumnFamilyName);
  return it != families_.end() ? ColumnFamily(this, it->second) : ColumnFamily();
}

std::vector<std::string> Store::FamilyNames() const {
  absl::MutexLock lock(&families_mutex_);
  std::vector<std::string> names;
  for (const auto& [name, handle] : families_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<ColumnFamily> Store::CreateFamily(absl::string_view name) {
  RETURN_IF_ERROR(CheckOpen("CreateFamily"));
  if (name.empty()) return absl::InvalidArgumentError("CreateFamily with an empty name");
  const std::string family_name(name);
  rocksdb::ColumnFamilyOptions family_options = MakeFamilyOptions(family_name);
  absl::MutexLock lock(&families_mutex_);
  if (families_.contains(family_name)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "column family '", family_name, "' already exists in the store at ", options_.path));
  }
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  RETURN_IF_ERROR(FromRocksDbStatus(
      db_->CreateColumnFamily(family_options, family_name, &handle),
      absl::StrCat("creating column family '", family_name, "' in ", options_.path)));
  families_[family_name] = handle;
  return ColumnFamily(this, handle);
}

absl::StatusOr<std::string> Store::Get(ColumnFamily family, absl::string_view key,
                                       const ReadOptions& options) const {
  RETURN_IF_ERROR(CheckFamily(family, "Get"));
  std::string value;
  rocksdb::Status status =
      db_->Get(MakeReadOptions(options), family.handle(), ToSlice(key), &value);
  if (status.ok()) return value;
  if (status.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("key '", DescribeKey(key),
                                            "' not found in column family '", family.name(), "'"));
  }
  if (status.IsIncomplete() && options.memory_only) {
    return NotInMemoryError(DescribeKey(key), family.name());
  }
  return FromRocksDbStatus(status,
                           absl::StrCat("reading key '", DescribeKey(key), "' from column family '",
                                        family.name(), "' of ", options_.path));
}

absl::StatusOr<std::vector<std::optional<std::string>>> Store::MultiGet(
    ColumnFamily family, absl::Span<const std::string> keys, const ReadOptions& options) const {
  RETURN_IF_ERROR(CheckFamily(family, "MultiGet"));
  const size_t n = keys.size();
  if (options.memory_only) {
    // RocksDB 7.8's batched MultiGet ignores read_tier and reads the files anyway (measured:
    // OK where Get says Incomplete), so memory-only reads go key by key through Get, which
    // honours it.
    const rocksdb::ReadOptions read = MakeReadOptions(options);
    std::vector<std::optional<std::string>> result(n);
    rocksdb::PinnableSlice value;
    for (size_t i = 0; i < n; ++i) {
      value.Reset();
      const rocksdb::Status status = db_->Get(read, family.handle(), ToSlice(keys[i]), &value);
      if (status.ok()) {
        result[i].emplace(value.data(), value.size());
      } else if (status.IsIncomplete()) {
        return NotInMemoryError(DescribeKey(keys[i]), family.name());
      } else if (!status.IsNotFound()) {
        return FromRocksDbStatus(
            status, absl::StrCat("reading key '", DescribeKey(keys[i]), "' from column family '",
                                 family.name(), "' of ", options_.path));
      }
    }
    return result;
  }
  std::vector<rocksdb::Slice> slices;
  slices.reserve(n);
  for (const std::string& key : keys) slices.emplace_back(key);
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(MakeReadOptions(options), family.handle(), n, slices.data(), values.data(),
                statuses.data());
  std::vector<std::optional<std::string>> result(n);
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) {
      result[i].emplace(values[i].data(), values[i].size());
    } else if (statuses[i].IsIncomplete() && options.memory_only) {
      return NotInMemoryError(DescribeKey(keys[i]), family.name());
    } else if (!statuses[i].IsNotFound()) {
      return FromRocksDbStatus(
          statuses[i], absl::StrCat("reading key '", DescribeKey(keys[i]), "' from column family '",
                                    family.name(), "' of ", options_.path));
    }
  }
  return result;
}

absl::Status Store::Put(ColumnFamily family, absl::string_view key, absl::string_view value,
                        SyncMode sync) {
  RETURN_IF_ERROR(CheckFamily(family, "Put"));
  return FromRocksDbStatus(
      db_->Put(MakeWriteOptions(sync), family.handle(), ToSlice(key), ToSlice(value)),
      absl::StrCat("writing key '", DescribeKey(key), "' to column family '", family.name(),
                   "' of ", options_.path));
}

absl::Status Store::Delete(ColumnFamily family, absl::string_view key, SyncMode sync) {
  RETURN_IF_ERROR(CheckFamily(family, "Delete"));
  return FromRocksDbStatus(
      db_->Delete(MakeWriteOptions(sync), family.handle(), ToSlice(key)),
      absl::StrCat("deleting key '", DescribeKey(key), "' from column family '", family.name(),
                   "' of ", options_.path));
}

absl::Status Store::Write(WriteBatch& batch, SyncMode sync) {
  RETURN_IF_ERROR(CheckOpen("Write"));
  if (!batch.status().ok()) {
    return core::WithContext(batch.status(), "refusing a write batch that failed to build");
  }
  if (batch.owner() != nullptr && batch.owner() != this) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Write of a batch built with column families of another Store than ", options_.path));
  }
  return FromRocksDbStatus(
      db_->Write(MakeWriteOptions(sync), batch.rep()),
      absl::StrCat("committing a batch of ", batch.count(), " operations to ", options_.path));
}

Snapshot Store::TakeSnapshot() const {
  if (db_ == nullptr) return Snapshot(nullptr, nullptr);
  return Snapshot(db_, db_->GetSnapshot());
}

absl::StatusOr<std::unique_ptr<Iterator>> Store::NewIterator(ColumnFamily family, KeyRange range,
                                                             const ReadOptions& options) const {
  RETURN_IF_ERROR(CheckFamily(family, "NewIterator"));
  std::unique_ptr<Iterator> iterator(new Iterator(std::move(range), family.name()));
  rocksdb::ReadOptions read = MakeReadOptions(options);
  read.iterate_lower_bound = &iterator->lower_bound_;
  // An empty end means "no bound"; RocksDB would read an empty bound as "before every key".
  if (iterator->range_.has_end()) read.iterate_upper_bound = &iterator->upper_bound_;
  iterator->it_.reset(db_->NewIterator(read, family.handle()));
  return iterator;
}

absl::Status Store::Scan(ColumnFamily family, const KeyRange& range,
                         absl::FunctionRef<bool(absl::string_view, absl::string_view)> visit,
                         const ReadOptions& options) const {
  ASSIGN_OR_RETURN(std::unique_ptr<Iterator> it, NewIterator(family, range, options));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(it->key(), it->value())) break;
  }
  return it->status();
}

absl::Status Store::SyncWal() {
  RETURN_IF_ERROR(CheckOpen("SyncWal"));
  return SyncWalImpl();
}

// An empty batch written with sync=true fsyncs the log through the ordinary write path, which
// every Env supports; DB::SyncWAL() is refused by some (the in-memory Env among them).
absl::Status Store::SyncWalImpl() {
  rocksdb::WriteBatch empty;
  return FromRocksDbStatus(db_->Write(MakeWriteOptions(SyncMode::kSync), &empty),
                           absl::StrCat("syncing the write-ahead log of ", options_.path));
}

absl::Status Store::Flush() {
  RETURN_IF_ERROR(CheckOpen("Flush"));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  {
    absl::MutexLock lock(&families_mutex_);
    for (const auto& [name, handle] : families_) handles.push_back(handle);
  }
  return FromRocksDbStatus(db_->Flush(rocksdb::FlushOptions(), handles),
                           absl::StrCat("flushing the memtables of ", options_.path));
}

absl::Status Store::Compact(ColumnFamily family) {
  RETURN_IF_ERROR(CheckFamily(family, "Compact"));
  rocksdb::CompactRangeOptions compact;
  // Rewrite the bottom level too, so compaction filters see every key.
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  return FromRocksDbStatus(
      db_->CompactRange(compact, family.handle(), nullptr, nullptr),
      absl::StrCat("compacting column family '", family.name(), "' of ", options_.path));
}

absl::StatusOr<uint64_t> Store::IntProperty(ColumnFamily family, absl::string_view property) const {
  RETURN_IF_ERROR(CheckFamily(family, "IntProperty"));
  uint64_t value = 0;
  if (!db_->GetIntProperty(family.handle(), ToSlice(property), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("column family '", family.name(),
                                                   "' has no integer property '", property, "'"));
  }
  return value;
}

}  // namespace fabrique::kv
