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
#include "libs/features/storage/memtable_support.h"
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

  // The nodes are in the allocator's memory, which RocksDB counts; the bucket array is not, so
  // it is reported here for the write buffer limits to see.
  size_t ApproximateMemoryUsage() override { return bucket_count_ * sizeof(buckets_[0]); }

  Iterator* GetIterator(rocksdb::Arena* arena) override {
    return NewMemTableIterator<SortedEntryIterator>(arena, compare_, SortedEntries());
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
    return NewMemTableIterator<KeyIterator>(arena, this);
  }

 private:
  // A key iterator gathers, at each seek, the entries of the key sought (the only ones a
  // whole-key prefix iterator may return), and has no first or last entry.
  class KeyIterator : public SortedEntryIterator {
   public:
    explicit KeyIterator(const HashMemTable* table)
        : SortedEntryIterator(table->compare_, {}), table_(table) {}

   private:
    bool gathers() const override { return true; }
    void Gather(const rocksdb::Slice& internal_key, std::vector<const char*>* entries) override {
      entries->clear();
      table_->EntriesOf(internal_key, entries);
    }

    const HashMemTable* const table_;
  };

  // `size` bytes aligned to `align` from the memtable's allocator (freed with the memtable).
  char* AllocateAligned(size_t size, size_t align) {
    char* raw = nullptr;
    rocksdb::MemTableRep::Allocate(size + align - 1, &raw);
    return AlignUp(raw, align);
  }

  // Every entry, in internal-key order. One walk over the buckets groups each key's entries (a
  // bucket holds few keys, and ingest writes about five entries per key between flushes), so
  // the sort orders keys, not entries. For bytewise keys it sorts on 8 bytes of the user key
  // past the prefix that all keys share (the group's), held beside each key, and compares whole
  // keys only where those are equal: comparing entries themselves reads both from random places
  // of the memtable, which made the sort most of a flush's CPU. Other comparators pay a
  // comparison of whole keys throughout.
  std::vector<const char*> SortedEntries() const {
    auto user_key = [this](const char* entry) { return UserKeyOf(compare_.decode_key(entry)); };
    auto before = [this](const char* a, const char* b) { return compare_(a, b) < 0; };
    struct Key {
      uint64_t head;   // Big-endian, so integer order is byte order; zero-padded past the key.
      uint32_t first;  // The key's entries are grouped[first, first + count).
      uint32_t count;
    };
    std::vector<const char*> grouped;
    grouped.reserve(entries_.load(std::memory_order_relaxed));
    std::vector<Key> keys;
    SharedPrefix prefix;
    std::vector<const char*> bucket;
    for (size_t b = 0; b < bucket_count_; ++b) {
      // Each bucket's first entry is a cache miss: ask for a later one's while reading this one.
      if (b + kBucketsAhead < bucket_count_) {
        PrefetchEntry(buckets_[b + kBucketsAhead].load(std::memory_order_acquire));
      }
      bucket.clear();
      for (const Node* node = buckets_[b].load(std::memory_order_acquire); node != nullptr;
           node = node->next.load(std::memory_order_acquire)) {
        bucket.push_back(node->entry());
      }
      // In internal-key order, so each key's entries are adjacent (and newest first).
      if (bucket.size() > 1) std::sort(bucket.begin(), bucket.end(), before);
      for (size_t i = 0; i < bucket.size();) {
        const absl::string_view key = user_key(bucket[i]);
        prefix.Add(key);
        const auto first = static_cast<uint32_t>(grouped.size());
        do {
          grouped.push_back(bucket[i++]);
        } while (i < bucket.size() && user_key(bucket[i]) == key);
        keys.push_back({0, first, static_cast<uint32_t>(grouped.size() - first)});
      }
    }
    auto key_before = [&](const Key& a, const Key& b) {
      return before(grouped[a.first], grouped[b.first]);
    };
    if (bytewise_) {
      const size_t shared = prefix.length();
      for (size_t k = 0; k < keys.size(); ++k) {
        if (k + kKeysAhead < keys.size()) PrefetchEntry(grouped[keys[k + kKeysAhead].first]);
        const absl::string_view key = user_key(grouped[keys[k].first]);
        uint64_t head = 0;
        for (size_t i = shared; i < shared + sizeof(head); ++i) {
          head = head << 8 | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
        }
        keys[k].head = head;
      }
      std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
        if (a.head != b.head) return a.head < b.head;
        return key_before(a, b);
      });
    } else {
      std::sort(keys.begin(), keys.end(), key_before);
    }
    std::vector<const char*> entries;
    entries.reserve(grouped.size());
    for (const Key& key : keys) {
      entries.insert(entries.end(), grouped.begin() + key.first,
                     grouped.begin() + key.first + key.count);
    }
    return entries;
  }

  // Starts loading the entry of `node`, if any, into the cache.
  static void PrefetchEntry(const Node* node) {
    if (node != nullptr) PrefetchEntry(node->entry());
  }
  static void PrefetchEntry(const char* entry) { __builtin_prefetch(entry); }

  // How far ahead the walk over the buckets and the pass over the keys ask for entries: enough
  // to overlap several cache misses.
  static constexpr size_t kBucketsAhead = 8;
  static constexpr size_t kKeysAhead = 8;

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
