#include "libs/kv/write_batch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/kv/rocksdb_status.h"

namespace fabrique::kv {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

bool WriteBatch::Accept(ColumnFamily family, absl::string_view operation) {
  if (!status_.ok()) return false;  // Only the first mistake is reported; the batch is dead.
  if (!family.valid()) {
    Fail(absl::InvalidArgumentError(absl::StrCat(
        "WriteBatch::", operation, " on an invalid ColumnFamily; get one from Store::Family()")));
    return false;
  }
  if (owner_ != nullptr && family.owner() != owner_) {
    Fail(absl::InvalidArgumentError(absl::StrCat(
        "WriteBatch::", operation, " on column family '", family.name(),
        "' of another Store: a batch is atomic only within one Store, write one batch per Store")));
    return false;
  }
  owner_ = family.owner();
  return true;
}

void WriteBatch::Fail(absl::Status status) {
  status_ = std::move(status);
  // Drop what was added so far: nothing of a failed batch may be written, even by mistake.
  batch_.Clear();
}

WriteBatch& WriteBatch::Put(ColumnFamily family, absl::string_view key, absl::string_view value) {
  if (!Accept(family, "Put")) return *this;
  rocksdb::Status status = batch_.Put(family.handle(), ToSlice(key), ToSlice(value));
  if (!status.ok()) Fail(FromRocksDbStatus(status, "adding a Put to a write batch"));
  return *this;
}

WriteBatch& WriteBatch::Merge(ColumnFamily family, absl::string_view key,
                              absl::string_view operand) {
  if (!Accept(family, "Merge")) return *this;
  rocksdb::Status status = batch_.Merge(family.handle(), ToSlice(key), ToSlice(operand));
  if (!status.ok()) Fail(FromRocksDbStatus(status, "adding a Merge to a write batch"));
  return *this;
}

WriteBatch& WriteBatch::Delete(ColumnFamily family, absl::string_view key) {
  if (!Accept(family, "Delete")) return *this;
  rocksdb::Status status = batch_.Delete(family.handle(), ToSlice(key));
  if (!status.ok()) Fail(FromRocksDbStatus(status, "adding a Delete to a write batch"));
  return *this;
}

WriteBatch& WriteBatch::DeleteRange(ColumnFamily family, absl::string_view begin,
                                    absl::string_view end) {
  if (!Accept(family, "DeleteRange")) return *this;
  if (end <= begin) {
    Fail(absl::InvalidArgumentError(
        absl::StrCat("WriteBatch::DeleteRange on column family '", family.name(),
                     "': begin must sort before end (the range is [begin, end))")));
    return *this;
  }
  rocksdb::Status status = batch_.DeleteRange(family.handle(), ToSlice(begin), ToSlice(end));
  if (!status.ok()) Fail(FromRocksDbStatus(status, "adding a DeleteRange to a write batch"));
  return *this;
}

void WriteBatch::Clear() {
  batch_.Clear();
  owner_ = nullptr;
  status_ = absl::OkStatus();
}

}  // namespace fabrique::kv
