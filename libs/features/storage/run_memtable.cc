#include "libs/features/storage/run_memtable.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/features/storage/memtable_support.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice.h"

namespace fabrique::features {
namespace {

using KeyComparator = rocksdb::MemTableRep::KeyComparator;

// More runs than one per this many entries: written in no useful order, so sorted instead.
constexpr size_t kEntriesPerRunAtLeast = 16;

class RunMemTable : public rocksdb::MemTableRep {
 public:
  RunMemTable(const KeyComparator& compare, rocksdb::Allocator* allocator)
      : rocksdb::MemTableRep(allocator), compare_(compare) {}

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
  // Puts `entries` in internal-key order (see the header).
  void Order(std::vector<const char*>* entries) const {
    auto before = [this](const char* a, const char* b) { return compare_(a, b) < 0; };
    std::vector<size_t> starts;  // Where each ascending run starts, then the end.
    for (size_t i = 0; i < entries->size(); ++i) {
      if (i == 0 || before((*entries)[i], (*entries)[i - 1])) starts.push_back(i);
    }
    if (starts.size() <= 1) return;
    if (starts.size() * kEntriesPerRunAtLeast > entries->size()) {
      std::sort(entries->begin(), entries->end(), before);
      return;
    }
    starts.push_back(entries->size());
    std::vector<const char*> merged(entries->size());
    while (starts.size() > 2) {
      std::vector<size_t> next;
      for (size_t r = 0; r + 1 < starts.size(); r += 2) {
        next.push_back(starts[r]);
        const auto begin = entries->begin() + starts[r];
        const auto middle = entries->begin() + starts[r + 1];
        const auto end = r + 2 < starts.size() ? entries->begin() + starts[r + 2] : middle;
        std::merge(begin, middle, middle, end, merged.begin() + starts[r], before);
      }
      next.push_back(entries->size());
      entries->swap(merged);
      starts = std::move(next);
    }
  }

  const KeyComparator& compare_;
  mutable absl::Mutex mutex_;
  std::vector<const char*> entries_
      ABSL_GUARDED_BY(mutex_);  // In the order written, until ordered.
  bool read_only_ ABSL_GUARDED_BY(mutex_) = false;
  bool ordered_ ABSL_GUARDED_BY(mutex_) = false;
};

class RunMemTableFactory : public rocksdb::MemTableRepFactory {
 public:
  rocksdb::MemTableRep* CreateMemTableRep(const KeyComparator& compare,
                                          rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new RunMemTable(compare, allocator);
  }
  const char* Name() const override { return "fabrique.RunMemTable"; }
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewRunMemTableFactory() {
  return std::make_shared<RunMemTableFactory>();
}

}  // namespace fabrique::features
