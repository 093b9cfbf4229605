#include "libs/features/storage/batch_keys.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace fabrique::features {

absl::StatusOr<BatchKeys> BatchKeys::Build(absl::string_view group, const v1::RowBatch& rows,
                                           RowMask skip) {
  const int n = rows.entity_keys_size();
  if (!skip.empty() && skip.size() != static_cast<size_t>(n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("row mask has ", skip.size(), " entries for ", n, " rows"));
  }
  if (rows.event_time_unix_micros_size() != n) {
    return absl::InvalidArgumentError(absl::StrCat("row batch has ", n, " entity keys but ",
                                                   rows.event_time_unix_micros_size(),
                                                   " event times"));
  }
  BatchKeys keys;
  const std::string prefix = GroupKeyPrefix(group);
  keys.prefix_bytes_ = prefix.size();
  keys.offsets_.reserve(n + 1);
  keys.rows_.reserve(n);
  keys.bytes_.reserve(static_cast<size_t>(n) * (prefix.size() + 32));
  for (int i = 0; i < n; ++i) {
    if (!skip.empty() && skip[i] != 0) continue;
    const std::string& entity = rows.entity_keys(i);
    if (entity.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("row ", i, " has an empty entity key"));
    }
    keys.offsets_.push_back(static_cast<uint32_t>(keys.bytes_.size()));
    keys.bytes_.append(prefix);
    AppendEntity(&keys.bytes_, entity);
    AppendEventTime(&keys.bytes_, rows.event_time_unix_micros(i));
    keys.rows_.push_back(i);
  }
  keys.offsets_.push_back(static_cast<uint32_t>(keys.bytes_.size()));
  keys.Sort();
  return keys;
}

// Rows often arrive in key order already, or by entity then ascending time (an export, a
// stream per entity): both are recognized in linear time before falling back to a sort.
void BatchKeys::Sort() {
  order_.resize(rows_.size());
  std::iota(order_.begin(), order_.end(), 0u);
  bool sorted = true;
  for (size_t i = 1; i < order_.size() && sorted; ++i) sorted = Key(i - 1) <= Key(i);
  if (sorted || ReverseAscendingRuns()) return;
  // Scattered rows: sorted on the 8 bytes after the group prefix that every key shares, as one
  // integer held beside the key's index, and on the whole key only where those are equal. A
  // comparison of whole keys reads both from random places of the batch's bytes and repeats the
  // shared prefix: a stable sort of them was 9% of the server's CPU in bulk loads of 200k rows.
  // Equal keys keep their input order (the index breaks the tie), as a stable sort would.
  struct Entry {
    uint64_t head;  // Big-endian, so integer order is byte order; zero-padded past the key.
    uint32_t key;
  };
  std::vector<Entry> entries(order_.size());
  for (uint32_t k = 0; k < entries.size(); ++k) {
    const absl::string_view rest = Key(k).substr(prefix_bytes_);
    uint64_t head = 0;
    for (size_t b = 0; b < sizeof(head); ++b) {
      head = head << 8 | (b < rest.size() ? static_cast<uint8_t>(rest[b]) : 0);
    }
    entries[k] = {head, k};
  }
  std::sort(entries.begin(), entries.end(), [this](const Entry& a, const Entry& b) {
    if (a.head != b.head) return a.head < b.head;
    const int order = Key(a.key).compare(Key(b.key));
    return order != 0 ? order < 0 : a.key < b.key;
  });
  for (size_t i = 0; i < entries.size(); ++i) order_[i] = entries[i].key;
}

// When the keys are in (entity, strictly ascending time) order, puts them in key order by
// reversing each entity's run, and returns true. (Equal times would come out reversed, so a
// batch with duplicates takes the stable sort.)
bool BatchKeys::ReverseAscendingRuns() {
  const size_t n = order_.size();
  auto entity = [this](uint32_t k) {
    const absl::string_view key = Key(k);
    return key.substr(0, key.size() - kHistoryTimeBytes);
  };
  for (size_t i = 1; i < n; ++i) {
    const absl::string_view previous = entity(i - 1), current = entity(i);
    if (previous > current) return false;
    if (previous == current && HistoryKeyEventTime(Key(i - 1)) >= HistoryKeyEventTime(Key(i))) {
      return false;
    }
  }
  size_t begin = 0;
  for (size_t i = 1; i <= n; ++i) {
    if (i == n || entity(i) != entity(begin)) {
      std::reverse(order_.begin() + begin, order_.begin() + i);
      begin = i;
    }
  }
  return true;
}

}  // namespace fabrique::features
