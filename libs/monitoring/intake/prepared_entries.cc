#include "libs/monitoring/intake/prepared_entries.h"

#include <algorithm>

namespace fabrique::monitoring {

void PreparedEntries::ReserveLikeFirst(size_t entries) {
  if (entries_.empty()) return;
  entries_.reserve(entries);
  bytes_.reserve(bytes_.size() / entries_.size() * entries * 5 / 4);
}

void PreparedEntries::SortByKey() {
  const char* const bytes = bytes_.data();
  std::sort(entries_.begin(), entries_.end(), [bytes](const Entry& a, const Entry& b) {
    return absl::string_view(bytes + a.begin, a.key_size) <
           absl::string_view(bytes + b.begin, b.key_size);
  });
}

void PreparedEntries::Put(kv::ColumnFamily family, const std::vector<bool>& accepted,
                          kv::WriteBatch& batch) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (accepted[entries_[i].row]) batch.Put(family, key(i), value(i));
  }
}

}  // namespace fabrique::monitoring
