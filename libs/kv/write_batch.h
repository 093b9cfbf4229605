#ifndef FABRIQUE_LIBS_KV_WRITE_BATCH_H_
#define FABRIQUE_LIBS_KV_WRITE_BATCH_H_

// A set of puts, merges and deletes, across any column families of one Store, that Store::Write
// commits atomically: after a crash or an error either every operation is visible or none is, and a
// reader (or snapshot) sees the batch entirely or not at all. The feature store commits a row to
// its history and its online view in one batch; the registry commits a version with its audit
// entry in one batch.
//
//   WriteBatch batch;
//   batch.Put(history, history_key, row).Put(online, online_key, row);
//   RETURN_IF_ERROR(store->Write(batch, SyncMode::kSync));
//
// A mistake while building the batch (an invalid column family, families of two different
// Stores) is remembered: the first one is returned by status(), later operations are ignored, and
// Store::Write refuses the batch without writing any of it.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/kv/column_family.h"
#include "rocksdb/write_batch.h"

namespace fabrique::kv {

class WriteBatch {
 public:
  WriteBatch() = default;
  WriteBatch(WriteBatch&&) = default;
  WriteBatch& operator=(WriteBatch&&) = default;

  // Sets `key` to `value` in `family`, replacing any previous value.
  WriteBatch& Put(ColumnFamily family, absl::string_view key, absl::string_view value);
  // Adds `operand` to `key` in `family`, to be combined with the key's value by the family's
  // merge operator (StoreOptions.configure_family sets one) at read and compaction time: a
  // read-modify-write without the read. Store::Write fails with FAILED_PRECONDITION when the
  // family has no merge operator.
  WriteBatch& Merge(ColumnFamily family, absl::string_view key, absl::string_view operand);
  // Removes `key` from `family`; removing an absent key is not an error.
  WriteBatch& Delete(ColumnFamily family, absl::string_view key);
  // Removes every key k with begin <= k < end from `family`. Meant for rare bulk removals (a
  // dropped feature group): many range deletions slow reads down until compaction.
  WriteBatch& DeleteRange(ColumnFamily family, absl::string_view begin, absl::string_view end);

  // Empties the batch and forgets any error, so it can be reused.
  void Clear();

  // OK, or the first mistake made while building the batch.
  const absl::Status& status() const { return status_; }
  // Number of operations in the batch.
  size_t count() const { return static_cast<size_t>(batch_.Count()); }
  bool empty() const { return count() == 0; }
  // Size of the encoded batch in bytes, which is what it adds to the write-ahead log.
  size_t byte_size() const { return batch_.GetDataSize(); }

  // The Store the batch's families belong to; null until an operation has been added.
  const Store* owner() const { return owner_; }
  // The RocksDB batch, for Store::Write.
  rocksdb::WriteBatch* rep() { return &batch_; }

 private:
  // Records an error and returns false when `family` may not join this batch.
  bool Accept(ColumnFamily family, absl::string_view operation);
  void Fail(absl::Status status);

  rocksdb::WriteBatch batch_;
  const Store* owner_ = nullptr;
  absl::Status status_;
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_WRITE_BATCH_H_
