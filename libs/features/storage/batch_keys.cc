#include "libs/features/storage/batch_keys.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

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

namespace {

// How many keys ahead of the one copied Permute fetches keys into the cache.
constexpr size_t kPrefetchAhead = 8;

// The 8 bytes of `bytes` from `from` as a big-endian integer, zero-padded past the end: integer
// order is byte order.
uint64_t BigEndianAt(absl::string_view bytes, size_t from) {
  uint64_t value = 0;
  if (from + sizeof(value) <= bytes.size()) {
    std::memcpy(&value, bytes.data() + from, sizeof(value));
    return __builtin_bswap64(value);
  }
  for (size_t b = 0; b < sizeof(value); ++b) {
    value = value << 8 | (from + b < bytes.size() ? static_cast<uint8_t>(bytes[from + b]) : 0);
  }
  return value;
}

}  // namespace

// Rows often arrive in key order already, or by entity then ascending time (an export, a
// stream per entity): both are recognized in linear time before falling back to a sort.
void BatchKeys::Sort() {
  bool sorted = true;
  for (size_t i = 1; i < rows_.size() && sorted; ++i) sorted = Key(i - 1) <= Key(i);
  if (sorted) return;
  std::vector<uint32_t> order = ReverseAscendingRuns();
  if (order.empty()) order = SortedOrder();
  Permute(order);
}

// Scattered rows: sorted on integers held beside each key's index, so that comparisons do not
// read the keys from random places of the batch's bytes (a sort that did was 11% of the server's
// CPU in bulk loads). A key is the group prefix, the entity's encoding and 8 bytes of time; the
// encoding is prefix-free (escaped and terminated), so key order is the order of the entities'
// encodings, then of the times. The first 16 bytes of the encoding decide it unless both
// entities are longer; the time is the key's last 8 bytes. Equal keys keep their input order
// (the index breaks the tie), as a stable sort would.
std::vector<uint32_t> BatchKeys::SortedOrder() const {
  struct Entry {
    uint64_t entity[2];  // Big-endian, zero-padded past the encoding.
    uint64_t time;       // Big-endian.
    uint32_t key;
    uint32_t long_entity;  // Nonzero when the encoding is longer than `entity` holds.
  };
  const size_t n = rows_.size();
  std::vector<Entry> entries(n);
  for (uint32_t k = 0; k < n; ++k) {
    const absl::string_view key = Key(k);
    const absl::string_view entity =
        key.substr(prefix_bytes_, key.size() - prefix_bytes_ - kHistoryTimeBytes);
    entries[k] = {{BigEndianAt(entity, 0), BigEndianAt(entity, 8)},
                  BigEndianAt(key, key.size() - kHistoryTimeBytes),
                  k,
                  entity.size() > 2 * sizeof(uint64_t)};
  }
  std::sort(entries.begin(), entries.end(), [this](const Entry& a, const Entry& b) {
    if (a.entity[0] != b.entity[0]) return a.entity[0] < b.entity[0];
    if (a.entity[1] != b.entity[1]) return a.entity[1] < b.entity[1];
    if ((a.long_entity | b.long_entity) != 0) {
      const absl::string_view x = Key(a.key), y = Key(b.key);
      const int order = x.substr(0, x.size() - kHistoryTimeBytes)
                            .compare(y.substr(0, y.size() - kHistoryTimeBytes));
      if (order != 0) return order < 0;
    }
    if (a.time != b.time) return a.time < b.time;
    return a.key < b.key;
  });
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = entries[i].key;
  return order;
}

// When the keys are in (entity, strictly ascending time) order, the order that reverses each
// entity's run. (Equal times would come out reversed, so a batch with duplicates takes the
// sort.)
std::vector<uint32_t> BatchKeys::ReverseAscendingRuns() const {
  const size_t n = rows_.size();
  auto entity = [this](uint32_t k) {
    const absl::string_view key = Key(k);
    return key.substr(0, key.size() - kHistoryTimeBytes);
  };
  for (size_t i = 1; i < n; ++i) {
    const absl::string_view previous = entity(i - 1), current = entity(i);
    if (previous > current) return {};
    if (previous == current && HistoryKeyEventTime(Key(i - 1)) >= HistoryKeyEventTime(Key(i))) {
      return {};
    }
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  size_t begin = 0;
  for (size_t i = 1; i <= n; ++i) {
    if (i == n || entity(i) != entity(begin)) {
      std::reverse(order.begin() + begin, order.begin() + i);
      begin = i;
    }
  }
  return order;
}

// One pass that reads the keys in `order` from wherever they sit, fetched a few keys ahead, so
// that every later pass (the writers', overridden(), online_candidate()) reads them in order.
void BatchKeys::Permute(const std::vector<uint32_t>& order) {
  std::string bytes;
  bytes.resize(bytes_.size());
  std::vector<uint32_t> offsets(offsets_.size());
  std::vector<int> rows(rows_.size());
  uint32_t at = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + kPrefetchAhead < order.size()) {
      __builtin_prefetch(bytes_.data() + offsets_[order[i + kPrefetchAhead]]);
    }
    const absl::string_view key = Key(order[i]);
    std::memcpy(bytes.data() + at, key.data(), key.size());
    offsets[i] = at;
    rows[i] = rows_[order[i]];
    at += static_cast<uint32_t>(key.size());
  }
  offsets[order.size()] = at;
  bytes_ = std::move(bytes);
  offsets_ = std::move(offsets);
  rows_ = std::move(rows);
}

}  // namespace fabrique::features
