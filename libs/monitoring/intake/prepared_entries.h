#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_PREPARED_ENTRIES_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_PREPARED_ENTRIES_H_

// PreparedEntries: what a batch of prediction records adds to one column family, built before
// the batch is written (IntakeStore::Prepare), then put in key order for the rows accepted.
//
//   PreparedEntries ids;
//   ids.Add(row, [&](std::string* out) { AppendPredictionIdKey(out, id); },
//           [&](std::string* out) { AppendWithTime(out, time, prediction_key); });
//   ids.SortByKey();
//   ids.Put(family, accepted_rows, batch);
//
// Keys and values lie back to back in one buffer: a batch of a thousand records allocates a few
// growing buffers, not two strings per entry and family (malloc and free were a seventh of the
// monitor's CPU). A view of a key or value is valid until the next Add.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "libs/kv/column_family.h"
#include "libs/kv/write_batch.h"

namespace fabrique::monitoring {

class PreparedEntries {
 public:
  // Room for `entries` entries as large as those added so far on average, and a quarter more:
  // the buffer then grows about once per batch rather than doubling its way up, copying itself.
  void ReserveLikeFirst(size_t entries);

  // Adds an entry of batch row `row`: `append_key` and then `append_value` append its key and
  // its value to the string they are given.
  template <typename AppendKey, typename AppendValue>
  void Add(size_t row, AppendKey&& append_key, AppendValue&& append_value) {
    Entry entry;
    entry.row = row;
    entry.begin = bytes_.size();
    append_key(&bytes_);
    entry.key_size = bytes_.size() - entry.begin;
    append_value(&bytes_);
    entry.value_size = bytes_.size() - entry.begin - entry.key_size;
    entries_.push_back(entry);
  }

  // Empties it, keeping its memory for the next batch.
  void Clear() {
    bytes_.clear();
    entries_.clear();
  }
  size_t capacity_bytes() const { return bytes_.capacity() + entries_.capacity() * sizeof(Entry); }

  size_t size() const { return entries_.size(); }
  absl::string_view key(size_t i) const {
    return {bytes_.data() + entries_[i].begin, entries_[i].key_size};
  }
  absl::string_view value(size_t i) const {
    const Entry& entry = entries_[i];
    return {bytes_.data() + entry.begin + entry.key_size, entry.value_size};
  }
  size_t row(size_t i) const { return entries_[i].row; }

  // Orders the entries by key: RocksDB's memtable inserts a key next to the one before it far
  // faster than anywhere else.
  void SortByKey();

  // Puts, in their order, the entries whose row is accepted.
  void Put(kv::ColumnFamily family, const std::vector<bool>& accepted, kv::WriteBatch& batch) const;

 private:
  struct Entry {
    size_t begin = 0;  // Of the key; the value follows it.
    size_t key_size = 0;
    size_t value_size = 0;
    size_t row = 0;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_PREPARED_ENTRIES_H_
