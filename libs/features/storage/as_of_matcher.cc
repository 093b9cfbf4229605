#include "libs/features/storage/as_of_matcher.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

#include "libs/core/status_macros.h"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {
namespace {

// Next() calls tried before a Seek. A Seek costs a binary search per level (about a
// microsecond); a Next inside a decoded block tens of nanoseconds.
constexpr int kMaxSteps = 16;

}  // namespace

absl::StatusOr<std::unique_ptr<AsOfMatcher>> AsOfMatcher::Create(const kv::Store& store,
                                                                 kv::ColumnFamily history,
                                                                 RowSchema schema,
                                                                 const kv::ReadOptions& read) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<kv::Iterator> it,
      store.NewIterator(history, kv::KeyRange::Prefix(GroupKeyPrefix(schema.group())), read));
  return std::unique_ptr<AsOfMatcher>(new AsOfMatcher(std::move(schema), std::move(it)));
}

AsOfMatcher::AsOfMatcher(RowSchema schema, std::unique_ptr<kv::Iterator> it)
    : schema_(std::move(schema)), prefix_(GroupKeyPrefix(schema_.group())), it_(std::move(it)) {}

void AsOfMatcher::Position(absl::string_view target, bool first) {
  if (first) {
    it_->Seek(target);
    ++seeks_;
    moved_ = true;
    return;
  }
  // Past the end stays past the end (targets only grow); a key >= target is already the answer.
  if (!it_->Valid() || it_->key() >= target) return;
  for (int step = 0; step < kMaxSteps; ++step) {
    it_->Next();
    ++steps_;
    moved_ = true;
    if (!it_->Valid() || it_->key() >= target) return;
  }
  it_->Seek(target);
  ++seeks_;
}

absl::Status AsOfMatcher::Match(absl::Span<const std::string* const> keys,
                                absl::Span<const int64_t> times) {
  const size_t n = keys.size();
  targets_.clear();
  target_offsets_.clear();
  target_offsets_.reserve(n + 1);
  for (size_t i = 0; i < n; ++i) {
    target_offsets_.push_back(static_cast<uint32_t>(targets_.size()));
    targets_.append(prefix_);
    AppendEntity(&targets_, *keys[i]);
    AppendEventTime(&targets_, times[i]);
  }
  target_offsets_.push_back(static_cast<uint32_t>(targets_.size()));
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), 0u);
  std::sort(order_.begin(), order_.end(),
            [this](uint32_t a, uint32_t b) { return Target(a) < Target(b); });

  arena_.clear();
  offsets_.assign(n, -1);
  lengths_.assign(n, 0);
  const int64_t ttl = schema_.ttl_micros();
  int64_t copied_offset = -1;
  bool first = true;
  for (uint32_t i : order_) {
    const absl::string_view target = Target(i);
    Position(target, first);
    first = false;
    if (!it_->Valid()) continue;
    const absl::string_view key = it_->key();
    // Same entity: the key is the target's entity prefix plus 8 bytes of time, like the target.
    const size_t entity_prefix = target.size() - kHistoryTimeBytes;
    if (key.size() != target.size() || std::memcmp(key.data(), target.data(), entity_prefix) != 0) {
      continue;
    }
    if (IsExpired(times[i], HistoryKeyEventTime(key), ttl)) continue;
    if (moved_) {
      const absl::string_view value = it_->value();
      copied_offset = static_cast<int64_t>(arena_.size());
      arena_.append(value.data(), value.size());
      moved_ = false;
    }
    offsets_[i] = copied_offset;
    lengths_[i] = static_cast<uint32_t>(arena_.size() - copied_offset);
  }
  return it_->status();
}

}  // namespace fabrique::features
