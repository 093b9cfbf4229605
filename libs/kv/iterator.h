#ifndef FABRIQUE_LIBS_KV_ITERATOR_H_
#define FABRIQUE_LIBS_KV_ITERATOR_H_

// Ordered iteration over one column family, confined to a KeyRange. The range is enforced by
// RocksDB itself (iterate_lower_bound / iterate_upper_bound), so an iterator never reads or
// returns a key outside it and stops without touching the next prefix's data.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Iterator> it,
//                    store->NewIterator(history, KeyRange::Prefix(entity_prefix)));
//   for (it->SeekToFirst(); it->Valid(); it->Next()) Use(it->key(), it->value());
//   RETURN_IF_ERROR(it->status());
//
// An iterator reads a consistent view: the snapshot from its ReadOptions, or else the state when
// it was created. It must be destroyed before its Store is closed.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/kv/key_range.h"
#include "rocksdb/slice.h"

namespace rocksdb {
class Iterator;
}  // namespace rocksdb

namespace fabrique::kv {

class Iterator {
 public:
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  ~Iterator();

  // Positions at the first key of the range.
  void SeekToFirst();
  // Positions at the last key of the range.
  void SeekToLast();
  // Positions at the first key >= target (and within the range).
  void Seek(absl::string_view target);
  // Positions at the last key <= target (and within the range).
  void SeekForPrev(absl::string_view target);
  // Moves to the next / previous key. Requires Valid().
  void Next();
  void Prev();

  // True when positioned on a key in the range. False at either end, and after an error: check
  // status() when a loop ends.
  bool Valid() const;
  // The current key and value. Require Valid(); the views last until the iterator moves.
  absl::string_view key() const;
  absl::string_view value() const;
  // OK, or why the iteration stopped early (the code mapped by FromRocksDbStatus).
  absl::Status status() const;

  const KeyRange& range() const { return range_; }

 private:
  friend class Store;
  Iterator(KeyRange range, std::string family_name);

  KeyRange range_;
  std::string family_name_;
  // RocksDB keeps pointers to these bounds for the iterator's whole life: they live here, in an
  // object that never moves (NewIterator returns it by unique_ptr).
  rocksdb::Slice lower_bound_;
  rocksdb::Slice upper_bound_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_ITERATOR_H_
