#include "libs/features/storage/run_memtable.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/features/storage/memtable_support.h"
#include "rocksdb/comparator.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice.h"

namespace fabrique::features {
namespace {

using KeyComparator = rocksdb::MemTableRep::KeyComparator;

// More runs than one per this many entries: written in no useful order, so sorted instead.
constexpr size_t kEntriesPerRunAtLeast = 16;

// The 8 bytes of `bytes` from `from` as a big-endian integer, zero-padded past the end.
uint64_t BigEndianAt(absl::string_view bytes, size_t from) {
  uint64_t value = 0;
  for (size_t b = from; b < from + sizeof(value); ++b) {
    value = value << 8 | (b < bytes.size() ? static_cast<uint8_t>(bytes[b]) : 0);
  }
  return value;
}

// Puts `items` in the order of `before` by merging the ascending runs they are in, pairs of
// runs at each pass; sorts them when the runs are too short to pay.
template <typename Item, typename Before>
void MergeRuns(std::vector<Item>* items, Before before) {
  std::vector<size_t> starts;  // Where each ascending run starts, then the end.
  for (size_t i = 0; i < items->size(); ++i) {
    if (i == 0 || before((*items)[i], (*items)[i - 1])) starts.push_back(i);
  }
  if (starts.size() <= 1) return;
  if (starts.size() * kEntriesPerRunAtLeast > items->size()) {
    std::sort(items->begin(), items->end(), before);
    return;
  }
  starts.push_back(items->size());
  std::vector<Item> merged(items->size());
  while (starts.size() > 2) {
    std::vector<size_t> next;
    for (size_t r = 0; r + 1 < starts.size(); r += 2) {
      next.push_back(starts[r]);
      const auto begin = items->begin() + starts[r];
      const auto middle = items->begin() + starts[r + 1];
      const auto end = r + 2 < starts.size() ? items->begin() + starts[r + 2] : middle;
      std::merge(begin, middle, middle, end, merged.begin() + starts[r], before);
    }
    next.push_back(items->size());
    items->swap(merged);
    starts = std::move(next);
  }
}

class RunMemTable : public rocksdb::MemTableRep {
 public:
  RunMemTable(const KeyComparator& compare, rocksdb::Allocator* allocator, bool bytewise)
      : rocksdb::MemTableRep(allocator), compare_(compare), bytewise_(bytewise) {}

  // MemTableRep::Allocate's handle is the entry itself.
  void Insert(rocksdb::KeyHandle handle) override {
    absl::MutexLock lock(&mutex_);
    entries_.push_back(static_cast<const char*>(handle));
  }

  bool Contains(const char* key) const override {
    absl::ReaderMutexLock lock(&mutex_);
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const char* entry) { return compare_(entry, key) == 0; });
  }

  void MarkReadOnly() override {
    absl::MutexLock lock(&mutex_);
    read_only_ = true;
  }

  size_t ApproximateMemoryUsage() override {
    absl::ReaderMutexLock lock(&mutex_);
    return entries_.capacity() * sizeof(const char*);
  }

  // A read-only memtable is put in order once, in place, and its iterators share the vector
  // (it changes no more); one still written to is copied.
  Iterator* GetIterator(rocksdb::Arena* arena) override {
    absl::MutexLock lock(&mutex_);
    if (read_only_) {
      if (!ordered_) {
        Order(&entries_);
        ordered_ = true;
      }
      return NewMemTableIterator<SortedEntryIterator>(arena, compare_, std::vector<const char*>(),
                                                      &entries_);
    }
    std::vector<const char*> copy = entries_;
    Order(&copy);
    return NewMemTableIterator<SortedEntryIterator>(arena, compare_, std::move(copy));
  }

  // RocksDB's default Get reads through an iterator that it never deletes, and would order the
  // whole memtable for one key.
  void Get(const rocksdb::LookupKey& lookup, void* callback_args,
           bool (*callback)(void* arg, const char* entry)) override {
    const rocksdb::Slice internal_key = InternalKeyOf(lookup);
    const absl::string_view user_key = UserKeyOf(internal_key);
    std::vector<const char*> entries;
    {
      absl::ReaderMutexLock lock(&mutex_);
      for (const char* entry : entries_) {
        if (UserKeyOf(compare_.decode_key(entry)) == user_key) entries.push_back(entry);
      }
    }
    std::sort(entries.begin(), entries.end(),
              [this](const char* a, const char* b) { return compare_(a, b) < 0; });
    for (const char* entry : entries) {
      if (compare_(entry, internal_key) < 0) continue;  // Newer than the read's sequence.
      if (!callback(callback_args, entry)) break;
    }
  }

 private:
  // Puts `entries` in internal-key order (see the header). For bytewise keys, merged on 16 bytes
  // of the user key past the prefix that all keys share, held beside the entry, and on whole
  // entries only where those are equal, as the hash memtable's flush sorts (hash_memtable.h):
  // comparisons of entries were most of a flush's ordering, and each merge pass makes one per
  // entry.
  void Order(std::vector<const char*>* entries) const {
    auto before = [this](const char* a, const char* b) { return compare_(a, b) < 0; };
    if (!bytewise_) {
      MergeRuns(entries, before);
      return;
    }
    auto user_key = [this](const char* entry) { return UserKeyOf(compare_.decode_key(entry)); };
    SharedPrefix prefix;
    for (const char* entry : *entries) prefix.Add(user_key(entry));
    const size_t shared = prefix.length();
    struct Keyed {
      uint64_t head[2];  // Big-endian, so integer order is byte order; zero-padded past the key.
      const char* entry;
    };
    std::vector<Keyed> keyed(entries->size());
    for (size_t i = 0; i < entries->size(); ++i) {
      const absl::string_view key = user_key((*entries)[i]);
      keyed[i] = {{BigEndianAt(key, shared), BigEndianAt(key, shared + 8)}, (*entries)[i]};
    }
    MergeRuns(&keyed, [&before](const Keyed& a, const Keyed& b) {
      if (a.head[0] != b.head[0]) return a.head[0] < b.head[0];
      if (a.head[1] != b.head[1]) return a.head[1] < b.head[1];
      return before(a.entry, b.entry);
    });
    for (size_t i = 0; i < keyed.size(); ++i) (*entries)[i] = keyed[i].entry;
  }

  const KeyComparator& compare_;
  const bool bytewise_;  // Whether user keys compare bytewise (see Order).
  mutable absl::Mutex mutex_;
  std::vector<const char*> entries_
      ABSL_GUARDED_BY(mutex_);  // In the order written, until ordered.
  bool read_only_ ABSL_GUARDED_BY(mutex_) = false;
  bool ordered_ ABSL_GUARDED_BY(mutex_) = false;
};

class RunMemTableFactory : public rocksdb::MemTableRepFactory {
 public:
  explicit RunMemTableFactory(bool bytewise) : bytewise_(bytewise) {}

  rocksdb::MemTableRep* CreateMemTableRep(const KeyComparator& compare,
                                          rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new RunMemTable(compare, allocator, bytewise_);
  }
  const char* Name() const override { return "fabrique.RunMemTable"; }

 private:
  const bool bytewise_;
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewRunMemTableFactory(
    const rocksdb::Comparator* comparator) {
  return std::make_shared<RunMemTableFactory>(comparator == nullptr ||
                                              comparator == rocksdb::BytewiseComparator());
}

}  // namespace fabrique::features
