#include "libs/features/storage/as_of_matcher.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

#include "libs/core/status_macros.h"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {
absl::StatusOr<std::unique_ptr<AsOfMatcher>> AsOfMatcher::Create(const kv::Store& store,
                                                                 kv::ColumnFamily history,
                                                                 RowSchema schema,
                                                                 const kv::ReadOptions& read,
                                                                 int max_steps) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<kv::Iterator> it,
      store.NewIterator(history, kv::KeyRange::Prefix(GroupKeyPrefix(schema.group())), read));
  return std::unique_ptr<AsOfMatcher>(
      new AsOfMatcher(std::move(schema), std::move(it), std::max(0, max_steps)));
}

AsOfMatcher::AsOfMatcher(RowSchema schema, std::unique_ptr<kv::Iterator> it, int max_steps)
    : schema_(std::move(schema)),
      prefix_(GroupKeyPrefix(schema_.group())),
      max_steps_(max_steps),
      it_(std::move(it)) {}

void AsOfMatcher::Position(absl::string_view target, bool first) {
  if (first) {
    it_->Seek(target);
    ++seeks_;
    moved_ = true;
    return;
  }
  // Past the end stays past the end (targets only grow); a key >= target is already the answer.
  if (!it_->Valid() || it_->key() >= target) return;
  for (int step = 0; step < max_steps_; ++step) {
    it_->Next();
    ++steps_;
    moved_ = true;
    if (!it_->Valid() || it_->key() >= target) return;
  }
  it_->Seek(target);
  ++seeks_;
  moved_ = true;
}

// Orders the window's events in key order (entity ascending, then newest first) without
// comparing strings per pair: distinct entities are ranked once (a hash map and a sort of the
// distinct keys), then the events sort on (rank, time) integers.
void AsOfMatcher::SortEvents(absl::Span<const std::string* const> keys,
                             absl::Span<const int64_t> times) {
  const size_t n = keys.size();
  entity_ids_.clear();
  distinct_.clear();
  events_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = entity_ids_.try_emplace(absl::string_view(*keys[i]),
                                                  static_cast<uint32_t>(distinct_.size()));
    if (inserted) distinct_.push_back(it->first);
    events_[i] = Event{it->second, times[i], static_cast<uint32_t>(i)};
  }
  // Encoded keys sort like the raw bytes (kv's codec guarantees it), so raw order is key order.
  ranks_.resize(distinct_.size());
  std::iota(ranks_.begin(), ranks_.end(), 0u);
  std::sort(ranks_.begin(), ranks_.end(),
            [this](uint32_t a, uint32_t b) { return distinct_[a] < distinct_[b]; });
  rank_of_.resize(distinct_.size());
  for (uint32_t r = 0; r < ranks_.size(); ++r) rank_of_[ranks_[r]] = r;
  for (Event& event : events_) event.entity = rank_of_[event.entity];
  std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
    return a.entity != b.entity ? a.entity < b.entity : a.time > b.time;
  });
}

absl::Status AsOfMatcher::Match(absl::Span<const std::string* const> keys,
                                absl::Span<const int64_t> times) {
  SortEvents(keys, times);
  const size_t n = keys.size();
  arena_.clear();
  offsets_.assign(n, -1);
  lengths_.assign(n, 0);
  const int64_t ttl = schema_.ttl_micros();
  int64_t copied_offset = -1;
  uint32_t entity = UINT32_MAX;
  size_t entity_prefix = 0;
  for (size_t e = 0; e < n; ++e) {
    const Event& event = events_[e];
    if (event.entity != entity) {  // A new entity: its prefix, reused by its other events.
      entity = event.entity;
      target_.assign(prefix_);
      AppendEntity(&target_, distinct_[ranks_[entity]]);
      entity_prefix = target_.size();
    }
    target_.resize(entity_prefix);
    AppendEventTime(&target_, event.time);
    Position(target_, /*first=*/e == 0);
    if (!it_->Valid()) continue;
    const absl::string_view key = it_->key();
    // Same entity: the key is the entity prefix plus 8 bytes of time, like the target.
    if (key.size() != target_.size() ||
        std::memcmp(key.data(), target_.data(), entity_prefix) != 0) {
      continue;
    }
    if (IsExpired(event.time, HistoryKeyEventTime(key), ttl)) continue;
    if (moved_) {
      const absl::string_view value = it_->value();
      // Growing a large arena by doubling copies it again and again: size it once, from the
      // first row, for the whole window.
      if (arena_.empty()) arena_.reserve((n + 1) * value.size());
      copied_offset = static_cast<int64_t>(arena_.size());
      arena_.append(value.data(), value.size());
      moved_ = false;
    }
    offsets_[event.index] = copied_offset;
    lengths_[event.index] = static_cast<uint32_t>(arena_.size() - copied_offset);
  }
  return it_->status();
}

}  // namespace fabrique::features
