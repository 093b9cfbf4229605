#include "libs/features/storage/memtable_support.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace fabrique::features {
namespace {

// Allocates from one of RocksDB's arenas, whose class is not public, through RocksDB's own
// MemTableRep::Allocate: rocksdb::Arena's only base is rocksdb::Allocator, the type that
// function allocates from. A memtable gives its iterators such an arena, and then only destroys
// them.
class ArenaAllocation : public rocksdb::MemTableRep {
 public:
  explicit ArenaAllocation(rocksdb::Arena* arena)
      : rocksdb::MemTableRep(reinterpret_cast<rocksdb::Allocator*>(arena)) {}

  char* AllocateAligned(size_t size, size_t align) {
    char* raw = nullptr;
    rocksdb::MemTableRep::Allocate(size + align - 1, &raw);
    return AlignUp(raw, align);
  }

  // Not a memtable: nothing else of MemTableRep is used.
  void Insert(rocksdb::KeyHandle) override {}
  bool Contains(const char*) const override { return false; }
  size_t ApproximateMemoryUsage() override { return 0; }
  Iterator* GetIterator(rocksdb::Arena*) override { return nullptr; }
};

// rocksdb::LookupKey (db/lookup_key.h, not public) starts with three pointers: to the memtable
// key (a varint32 length, then the internal key), to the internal key, and to their end.
struct LookupKeyLayout {
  const char* memtable_key;
  const char* internal_key;
  const char* end;
};

}  // namespace

// Checked at every read: the length must decode to exactly that internal key, or the process
// stops rather than read another key (a RocksDB that changed the layout fails every test at
// once).
rocksdb::Slice InternalKeyOf(const rocksdb::LookupKey& lookup) {
  const auto& layout = reinterpret_cast<const LookupKeyLayout&>(lookup);
  const rocksdb::Slice internal_key(layout.internal_key,
                                    static_cast<size_t>(layout.end - layout.internal_key));
  const rocksdb::Slice decoded = rocksdb::GetLengthPrefixedSlice(layout.memtable_key);
  if (decoded.data() != internal_key.data() || decoded.size() != internal_key.size()) {
    std::fprintf(stderr,
                 "fabrique memtable: rocksdb::LookupKey's layout is not the one "
                 "this memtable was built for\n");
    std::abort();
  }
  return internal_key;
}

char* AlignUp(char* raw, size_t align) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(raw);
  return reinterpret_cast<char*>((address + align - 1) & ~(uintptr_t{align} - 1));
}

char* AllocateFromArena(rocksdb::Arena* arena, size_t size, size_t align) {
  return ArenaAllocation(arena).AllocateAligned(size, align);
}

void SortedEntryIterator::Seek(const rocksdb::Slice& internal_key, const char*) {
  if (gathers()) Gather(internal_key, &own_);
  pos_ = std::lower_bound(entries_->begin(), entries_->end(), internal_key,
                          [this](const char* entry, const rocksdb::Slice& target) {
                            return compare_(entry, target) < 0;
                          }) -
         entries_->begin();
}

void SortedEntryIterator::SeekForPrev(const rocksdb::Slice& internal_key, const char*) {
  if (gathers()) Gather(internal_key, &own_);
  const size_t after = std::upper_bound(entries_->begin(), entries_->end(), internal_key,
                                        [this](const rocksdb::Slice& target, const char* entry) {
                                          return compare_(entry, target) > 0;
                                        }) -
                       entries_->begin();
  pos_ = after == 0 ? entries_->size() : after - 1;
}

}  // namespace fabrique::features
