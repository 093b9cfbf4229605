#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_MEMTABLE_SUPPORT_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_MEMTABLE_SUPPORT_H_

// What the feature store's RocksDB memtables (hash_memtable.h, run_memtable.h) share: an
// iterator over a vector of entries in internal-key order, allocation from RocksDB's arenas, and
// the internal key of a rocksdb::LookupKey.
//
// Two of RocksDB's non-public types are relied on, each for want of a public way: the layout of
// rocksdb::LookupKey (three pointers first; checked at every lookup, which stops the process on
// a mismatch) and rocksdb::Arena being a rocksdb::Allocator (its only base). Built and tested
// against RocksDB 7.8; the storage tests exercise both on every read and flush.

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice.h"

namespace fabrique::features {

// The user key of an internal key: without its 8 bytes of sequence number and type.
inline absl::string_view UserKeyOf(const rocksdb::Slice& internal_key) {
  return absl::string_view(internal_key.data(), internal_key.size() - 8);
}

// The longest prefix that every key added shares, found in one pass over the keys (a flush's
// sort compares keys past it).
class SharedPrefix {
 public:
  void Add(absl::string_view key) {
    if (!any_) {
      first_ = key;
      length_ = key.size();
      any_ = true;
      return;
    }
    size_t same = 0;
    const size_t limit = length_ < key.size() ? length_ : key.size();
    while (same < limit && key[same] == first_[same]) ++same;
    length_ = same;
  }
  size_t length() const { return length_; }

 private:
  absl::string_view first_;
  size_t length_ = 0;
  bool any_ = false;
};

// The internal key of a lookup (see above for the layout it relies on).
rocksdb::Slice InternalKeyOf(const rocksdb::LookupKey& lookup);

// Rounds `raw` up to a multiple of `align`; `raw` must have align - 1 bytes to spare.
char* AlignUp(char* raw, size_t align);

// `size` bytes aligned to `align` from one of RocksDB's arenas (see above).
char* AllocateFromArena(rocksdb::Arena* arena, size_t size, size_t align);

// Entries in internal-key order, either its own or a vector that outlives it (a read-only
// memtable's). Subclasses may gather the entries at each seek (Gather), for iterators that only
// see the key they seek.
class SortedEntryIterator : public rocksdb::MemTableRep::Iterator {
 public:
  using KeyComparator = rocksdb::MemTableRep::KeyComparator;

  SortedEntryIterator(const KeyComparator& compare, std::vector<const char*> entries,
                      const std::vector<const char*>* shared = nullptr)
      : compare_(compare), own_(std::move(entries)), entries_(shared ? shared : &own_) {}

  bool Valid() const override { return pos_ < entries_->size(); }
  const char* key() const override { return (*entries_)[pos_]; }
  // A flush reads every entry in key order, scattered over the memtable's arena, and each one
  // was a cache miss (about 15% of streaming ingest's CPU, in RocksDB's MemTableIterator::key):
  // asking for an entry a few places ahead lets those misses overlap.
  void Next() override {
    ++pos_;
    if (pos_ + kEntriesAhead < entries_->size()) {
      const char* ahead = (*entries_)[pos_ + kEntriesAhead];
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64);  // Its key and the start of its value.
    }
  }
  void Prev() override { pos_ = pos_ == 0 ? entries_->size() : pos_ - 1; }
  void Seek(const rocksdb::Slice& internal_key, const char*) override;
  void SeekForPrev(const rocksdb::Slice& internal_key, const char*) override;
  void SeekToFirst() override { pos_ = entries_->size() > 0 && !gathers() ? 0 : entries_->size(); }
  void SeekToLast() override {
    pos_ = entries_->size() > 0 && !gathers() ? entries_->size() - 1 : entries_->size();
  }

 protected:
  // True when the entries are gathered at each seek: then there is no first or last entry.
  virtual bool gathers() const { return false; }
  // Replaces the entries with those of `internal_key`'s user key (only when gathers()).
  virtual void Gather(const rocksdb::Slice&, std::vector<const char*>*) {}

 private:
  static constexpr size_t kEntriesAhead = 8;

  const KeyComparator& compare_;
  std::vector<const char*> own_;
  const std::vector<const char*>* entries_;
  size_t pos_ = 0;
};

// Makes an iterator as RocksDB expects: deleted by RocksDB when made without an arena; in the
// arena otherwise, where RocksDB only calls its destructor. (Not in the memtable's allocator:
// RocksDB requires a memtable not to grow once immutable.)
template <typename Iterator, typename... Args>
rocksdb::MemTableRep::Iterator* NewMemTableIterator(rocksdb::Arena* arena, Args&&... args) {
  if (arena == nullptr) return new Iterator(std::forward<Args>(args)...);
  return new (AllocateFromArena(arena, sizeof(Iterator), alignof(Iterator)))
      Iterator(std::forward<Args>(args)...);
}

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_MEMTABLE_SUPPORT_H_
