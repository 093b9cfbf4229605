#include "libs/kv/iterator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/kv/rocksdb_status.h"
#include "rocksdb/iterator.h"

namespace fabrique::kv {

Iterator::Iterator(KeyRange range, std::string family_name)
    : range_(std::move(range)),
      family_name_(std::move(family_name)),
      lower_bound_(range_.begin),
      upper_bound_(range_.end) {}

Iterator::~Iterator() = default;

// RocksDB honours iterate_lower_bound only when moving backwards, so forward seeks are clamped
// here.
void Iterator::SeekToFirst() { it_->Seek(lower_bound_); }

void Iterator::SeekToLast() {
  // With an upper bound set, RocksDB's SeekToLast lands on the last key below it.
  it_->SeekToLast();
}

void Iterator::Seek(absl::string_view target) {
  if (target < range_.begin) {
    it_->Seek(lower_bound_);
  } else {
    it_->Seek(rocksdb::Slice(target.data(), target.size()));
  }
}

void Iterator::SeekForPrev(absl::string_view target) {
  if (range_.has_end() && target >= range_.end) {
    it_->SeekToLast();
  } else {
    it_->SeekForPrev(rocksdb::Slice(target.data(), target.size()));
  }
}

void Iterator::Next() { it_->Next(); }
void Iterator::Prev() { it_->Prev(); }
bool Iterator::Valid() const { return it_->Valid(); }

absl::string_view Iterator::key() const {
  rocksdb::Slice key = it_->key();
  return absl::string_view(key.data(), key.size());
}

absl::string_view Iterator::value() const {
  rocksdb::Slice value = it_->value();
  return absl::string_view(value.data(), value.size());
}

absl::Status Iterator::status() const {
  return FromRocksDbStatus(it_->status(),
                           absl::StrCat("iterating column family '", family_name_, "'"));
}

}  // namespace fabrique::kv
