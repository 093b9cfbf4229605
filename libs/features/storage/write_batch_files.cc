#include "libs/features/storage/write_batch_files.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "libs/core/status_macros.h"
#include "rocksdb/comparator.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace fabrique::features {
namespace {

enum class Op : uint8_t { kPut, kMerge, kDelete };

struct Entry {
  uint32_t family;
  Op op;
  rocksdb::Slice key;
  rocksdb::Slice value;
  const rocksdb::Comparator* order = nullptr;  // The family's key order, once it is known.
};

// Collects the batch's Puts, Merges and Deletes, pointing into its bytes; refuses the rest.
class Collector : public rocksdb::WriteBatch::Handler {
 public:
  std::vector<Entry> entries;

  rocksdb::Status PutCF(uint32_t family, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    entries.push_back({family, Op::kPut, key, value});
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t family, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
    entries.push_back({family, Op::kMerge, key, value});
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t family, const rocksdb::Slice& key) override {
    entries.push_back({family, Op::kDelete, key, rocksdb::Slice()});
    return rocksdb::Status::OK();
  }
  // The handler's defaults accept some of these silently on the default family.
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return Refused(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Refused();
  }
  rocksdb::Status PutEntityCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Refused();
  }
  rocksdb::Status PutBlobIndexCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return Refused();
  }

 private:
  static rocksdb::Status Refused() { return rocksdb::Status::NotSupported(); }
};

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<bool> AddWriteBatchToIngest(kv::Store& store, kv::WriteBatch& batch,
                                           AtomicIngest* ingest) {
  RETURN_IF_ERROR(batch.status());
  if (batch.empty()) return true;
  if (batch.owner() != &store) {
    return absl::InvalidArgumentError("a write batch of another store cannot join its ingestion");
  }
  Collector collected;
  if (!batch.rep()->Iterate(&collected).ok()) return false;
  std::vector<Entry>& entries = collected.entries;

  absl::flat_hash_map<uint32_t, kv::ColumnFamily> families;
  for (const std::string& name : store.FamilyNames()) {
    ASSIGN_OR_RETURN(kv::ColumnFamily family, store.Family(name));
    families[family.handle()->GetID()] = family;
  }
  for (Entry& entry : entries) {
    auto it = families.find(entry.family);
    if (it == families.end() || ingest->Find(it->second) != nullptr) return false;
    entry.order = it->second.handle()->GetComparator();
  }
  // By family, then key in the family's order. Stable, so equal keys stay in batch order until
  // they are refused below. Batches usually come in that order already (tile updates do).
  auto before = [](const Entry& a, const Entry& b) {
    if (a.family != b.family) return a.family < b.family;
    return a.order->Compare(a.key, b.key) < 0;
  };
  if (!std::is_sorted(entries.begin(), entries.end(), before)) {
    std::stable_sort(entries.begin(), entries.end(), before);
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].family == entries[i - 1].family &&
        entries[i].order->Compare(entries[i].key, entries[i - 1].key) == 0) {
      return false;
    }
  }
  AtomicIngest::File* file = nullptr;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    if (i == 0 || entry.family != entries[i - 1].family) {
      ASSIGN_OR_RETURN(file, ingest->FileOf(families.at(entry.family)));
    }
    switch (entry.op) {
      case Op::kPut:
        RETURN_IF_ERROR(file->Put(View(entry.key), View(entry.value)));
        break;
      case Op::kMerge:
        RETURN_IF_ERROR(file->Merge(View(entry.key), View(entry.value)));
        break;
      case Op::kDelete:
        RETURN_IF_ERROR(file->Delete(View(entry.key)));
        break;
    }
  }
  return true;
}

}  // namespace fabrique::features
