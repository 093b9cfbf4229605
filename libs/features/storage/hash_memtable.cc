#include "libs/features/storage/hash_memtable.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "rocksdb/comparator.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice.h"

namespace fabrique::features {
namespace {

using KeyComparator = rocksdb::MemTableRep::KeyComparator;

// An entry: the link to the next (older) entry of its bucket, then RocksDB's encoded entry
// (length-prefixed internal key, then the value).
struct Node {
  std::atomic<Node*> next{nullptr};
  const char* entry() const { return reinterpret_cast<const char*>(this + 1); }
};

// Rounds `raw` up to a multiple of `align`; `raw` must have align - 1 bytes to spare.
char* Align(char* raw, size_t align) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(raw);
  return reinterpret_cast<char*>((address + align - 1) & ~(uintptr_t{align} - 1));
}

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
    return Align(raw, align);
  }

  // Not a memtable: nothing else of MemTableRep is used.
  void Insert(rocksdb::KeyHandle) override {}
  bool Contains(const char*) const override { return false; }
  size_t ApproximateMemoryUsage() override { return 0; }
  Iterator* GetIterator(rocksdb::Arena*) override { return nullptr; }
};

// rocksdb::LookupKey (db/lookup_key.h, not public) starts with three pointers: to the memtable
// key (a varint32 length, then the internal key), to the internal key, and to their end. Checked
// at every read: the length must decode to exactly that internal key, or the process stops
// rather than read another key (a RocksDB that changed the layout fails every test at once).
struct LookupKeyLayout {
  const char* memtable_key;
  const char* internal_key;
  const char* end;
};

rocksdb::Slice InternalKeyOf(const rocksdb::LookupKey& lookup) {
  const auto& layout = reinterpret_cast<const LookupKeyLayout&>(lookup);
  const rocksdb::Slice internal_key(layout.internal_key,
                                    static_cast<size_t>(layout.end - layout.internal_key));
  const rocksdb::Slice decoded = rocksdb::GetLengthPrefixedSlice(layout.memtable_key);
  if (decoded.data() != internal_key.data() || decoded.size() != internal_key.size()) {
    std::fprintf(stderr,
                 "fabrique.HashMemTable: rocksdb::LookupKey's layout is not the one "
                 "this memtable was built for\n");
    std::abort();
  }
  return internal_key;
}

// The user key of an internal key: without its 8 bytes of sequence number and type.
absl::string_view UserKeyOf(const rocksdb::Slice& internal_key) {
  return absl::string_view(internal_key.data(), internal_key.size() - 8);
}

class HashMemTable : public rocksdb::MemTableRep {
 public:
  HashMemTable(const KeyComparator& compare, rocksdb::Allocator* allocator, size_t buckets,
               bool bytewise)
      : rocksdb::MemTableRep(allocator),
        compare_(compare),
        bytewise_(bytewise),
        bucket_count_(std::max<size_t>(buckets, 1)),
        buckets_(new std::atomic<Node*>[bucket_count_]) {
    for (size_t b = 0; b < bucket_count_; ++b)
      buckets_[b].store(nullptr, std::memory_order_relaxed);
  }

  rocksdb::KeyHandle Allocate(const size_t len, char** buf) override {
    Node* node = new (AllocateAligned(sizeof(Node) + len, alignof(Node))) Node;
    *buf = reinterpret_cast<char*>(node + 1);
    return node;
  }

  void Insert(rocksdb::KeyHandle handle) override {
    Node* node = static_cast<Node*>(handle);
    std::atomic<Node*>& head = Bucket(UserKeyOf(compare_.decode_key(node->entry())));
    node->next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    // Published whole: a concurrent lookup sees the entry with its bytes or not at all.
    head.store(node, std::memory_order_release);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }

  bool Contains(const char* key) const override {
    const absl::string_view user_key = UserKeyOf(compare_.decode_key(key));
    for (const Node* node = Bucket(user_key).load(std::memory_order_acquire); node != nullptr;
         node = node->next.load(std::memory_order_acquire)) {
      if (compare_(node->entry(), key) == 0) return true;
    }
    return false;
  }

  // The nodes are in the allocator's memory, which RocksDB counts; the buckets are not.
  size_t ApproximateMemoryUsage() override { return 0; }

  Iterator* GetIterator(rocksdb::Arena* arena) override {
    return NewIterator(arena, /*key_only=*/false, SortedEntries());
  }

  // RocksDB's default Get reads through a prefix iterator that it never deletes (every
  // memtable of RocksDB's own overrides Get), so this one does too.
  void Get(const rocksdb::LookupKey& lookup, void* callback_args,
           bool (*callback)(void* arg, const char* entry)) override {
    const rocksdb::Slice internal_key = InternalKeyOf(lookup);
    absl::InlinedVector<const char*, 8> entries;
    EntriesOf(internal_key, &entries);
    for (const char* entry : entries) {
      if (compare_(entry, internal_key) < 0) continue;  // Newer than the read's sequence.
      if (!callback(callback_args, entry)) break;
    }
  }

  Iterator* GetDynamicPrefixIterator(rocksdb::Arena* arena) override {
    return NewIterator(arena, /*key_only=*/true, std::vector<const char*>());
  }

 private:
  // Entries in internal-key order. A whole-memtable iterator holds every entry from the start;
  // a key iterator gathers, at each seek, the entries of the key sought (the only ones a
  // whole-key prefix iterator may return), and has no first or last entry.
  class SortedIterator : public Iterator {
   public:
    SortedIterator(const HashMemTable* table, bool key_only, std::vector<const char*> entries)
        : table_(table), key_only_(key_only), entries_(std::move(entries)) {}

    bool Valid() const override { return pos_ < entries_.size(); }
    const char* key() const override { return entries_[pos_]; }
    void Next() override { ++pos_; }
    void Prev() override { pos_ = pos_ == 0 ? entries_.size() : pos_ - 1; }
    void Seek(const rocksdb::Slice& internal_key, const char*) override {
      if (key_only_) Gather(internal_key);
      pos_ = std::lower_bound(entries_.begin(), entries_.end(), internal_key,
                              [this](const char* entry, const rocksdb::Slice& target) {
                                return table_->compare_(entry, target) < 0;
                              }) -
             entries_.begin();
    }
    void SeekForPrev(const rocksdb::Slice& internal_key, const char*) override {
      if (key_only_) Gather(internal_key);
      const size_t after =
          std::upper_bound(entries_.begin(), entries_.end(), internal_key,
                           [this](const rocksdb::Slice& target, const char* entry) {
                             return table_->compare_(entry, target) > 0;
                           }) -
          entries_.begin();
      pos_ = after == 0 ? entries_.size() : after - 1;
    }
    void SeekToFirst() override { pos_ = key_only_ ? entries_.size() : 0; }
    void SeekToLast() override {
      pos_ = key_only_ || entries_.empty() ? entries_.size() : entries_.size() - 1;
    }

   private:
    void Gather(const rocksdb::Slice& internal_key) {
      entries_.clear();
      table_->EntriesOf(internal_key, &entries_);
    }

    const HashMemTable* const table_;
    const bool key_only_;
    std::vector<const char*> entries_;
    size_t pos_ = 0;
  };

  // `size` bytes aligned to `align` from the memtable's allocator (freed with the memtable).
  char* AllocateAligned(size_t size, size_t align) {
    char* raw = nullptr;
    rocksdb::MemTableRep::Allocate(size + align - 1, &raw);
    return Align(raw, align);
  }

  // RocksDB deletes an iterator made without an arena; with one, it only calls the destructor.
  // (Not in the memtable's allocator: RocksDB requires a memtable not to grow once immutable.)
  Iterator* NewIterator(rocksdb::Arena* arena, bool key_only, std::vector<const char*> entries) {
    if (arena == nullptr) return new SortedIterator(this, key_only, std::move(entries));
    return new (
        ArenaAllocation(arena).AllocateAligned(sizeof(SortedIterator), alignof(SortedIterator)))
        SortedIterator(this, key_only, std::move(entries));
  }

  // Every entry, in internal-key order. For bytewise keys, sorted on 8 bytes of the user key
  // past the prefix that all keys share (the group's), held beside the entry, and on whole
  // entries only where those are equal: comparing entries themselves reads both from random
  // places of the memtable, which made the sort most of a flush's CPU. Other comparators pay
  // that full sort.
  std::vector<const char*> SortedEntries() const {
    auto user_key = [this](const char* entry) { return UserKeyOf(compare_.decode_key(entry)); };
    // One walk gathers the entries and the prefix they share, reading each entry once.
    std::vector<const char*> entries;
    entries.reserve(entries_.load(std::memory_order_relaxed));
    absl::string_view first;
    size_t shared = 0;
    for (size_t b = 0; b < bucket_count_; ++b) {
      for (const Node* node = buckets_[b].load(std::memory_order_acquire); node != nullptr;
           node = node->next.load(std::memory_order_acquire)) {
        const absl::string_view key = user_key(node->entry());
        if (entries.empty()) {
          first = key;
          shared = key.size();
        }
        size_t same = 0;
        const size_t limit = std::min(shared, key.size());
        while (same < limit && key[same] == first[same]) ++same;
        shared = same;
        entries.push_back(node->entry());
      }
    }
    auto before = [this](const char* a, const char* b) { return compare_(a, b) < 0; };
    if (!bytewise_) {
      std::sort(entries.begin(), entries.end(), before);
      return entries;
    }
    struct Keyed {
      uint64_t head;  // Big-endian, so integer order is byte order; zero-padded past the key.
      const char* entry;
    };
    std::vector<Keyed> keyed(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      const absl::string_view key = user_key(entries[i]);
      uint64_t head = 0;
      for (size_t b = shared; b < shared + sizeof(head); ++b) {
        head = head << 8 | (b < key.size() ? static_cast<uint8_t>(key[b]) : 0);
      }
      keyed[i] = {head, entries[i]};
    }
    std::sort(keyed.begin(), keyed.end(), [this](const Keyed& a, const Keyed& b) {
      if (a.head != b.head) return a.head < b.head;
      return compare_(a.entry, b.entry) < 0;
    });
    for (size_t i = 0; i < keyed.size(); ++i) entries[i] = keyed[i].entry;
    return entries;
  }

  // The entries of the user key of `internal_key`, in internal-key order (newest first).
  template <typename Entries>
  void EntriesOf(const rocksdb::Slice& internal_key, Entries* out) const {
    const absl::string_view user_key = UserKeyOf(internal_key);
    for (const Node* node = Bucket(user_key).load(std::memory_order_acquire); node != nullptr;
         node = node->next.load(std::memory_order_acquire)) {
      if (UserKeyOf(compare_.decode_key(node->entry())) == user_key) {
        out->push_back(node->entry());
      }
    }
    // Newest first already, written in sequence order; sorted otherwise, as RocksDB needs.
    auto before = [this](const char* a, const char* b) { return compare_(a, b) < 0; };
    if (!std::is_sorted(out->begin(), out->end(), before)) {
      std::sort(out->begin(), out->end(), before);
    }
  }

  std::atomic<Node*>& Bucket(absl::string_view user_key) const {
    return buckets_[absl::Hash<absl::string_view>()(user_key) % bucket_count_];
  }

  const KeyComparator& compare_;
  const bool bytewise_;  // Whether user keys compare bytewise (see SortedEntries).
  const size_t bucket_count_;
  const std::unique_ptr<std::atomic<Node*>[]> buckets_;
  std::atomic<size_t> entries_{0};
};

class HashMemTableFactory : public rocksdb::MemTableRepFactory {
 public:
  HashMemTableFactory(size_t buckets, bool bytewise) : buckets_(buckets), bytewise_(bytewise) {}

  rocksdb::MemTableRep* CreateMemTableRep(const KeyComparator& compare,
                                          rocksdb::Allocator* allocator,
                                          const rocksdb::SliceTransform*,
                                          rocksdb::Logger*) override {
    return new HashMemTable(compare, allocator, buckets_, bytewise_);
  }
  const char* Name() const override { return "fabrique.HashMemTable"; }

 private:
  const size_t buckets_;
  const bool bytewise_;
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewHashMemTableFactory(
    size_t buckets, const rocksdb::Comparator* comparator) {
  return std::make_shared<HashMemTableFactory>(
      buckets, comparator == nullptr || comparator == rocksdb::BytewiseComparator());
}

}  // namespace fabrique::features
