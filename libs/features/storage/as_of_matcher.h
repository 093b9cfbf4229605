#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_AS_OF_MATCHER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_AS_OF_MATCHER_H_

// AsOfMatcher: the inner loop of the point-in-time join for one feature group. Given a window of
// label events (entity key, time), it finds for each one the group's newest history row with
// event_time <= time, and drops it when older than the group's TTL at that time
// (time - event_time > ttl).
//
// The answer to (entity, T) is the first history key >= HistoryKey(group, entity, T) if that key
// still belongs to the entity. The window's events are sorted in key order (by entity rank and
// time, integers, not by comparing key strings), so the one iterator only moves forward: a target
// close to the current position is reached with a few Next() calls before falling back to a Seek
// (which RocksDB makes cheap when the target lies in the current block). Matched rows are copied
// once into an arena (events sharing a row share the copy) so the join can emit them later in the
// events' original order. Memory: O(window), whatever the history size.
//
// Not thread-safe: one per group per join.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "libs/features/storage/row_schema.h"
#include "libs/kv/store.h"

namespace fabrique::features {

class AsOfMatcher {
 public:
  // Reads `history` of `store` through `read` (its snapshot must outlive the matcher), trying
  // up to `max_steps` Next() calls before a Seek.
  static absl::StatusOr<std::unique_ptr<AsOfMatcher>> Create(const kv::Store& store,
                                                             kv::ColumnFamily history,
                                                             RowSchema schema,
                                                             const kv::ReadOptions& read,
                                                             int max_steps);

  // Matches events i < keys.size() (keys[i], times[i]); replaces the previous window's matches.
  absl::Status Match(absl::Span<const std::string* const> keys, absl::Span<const int64_t> times);

  // The encoded row matched to event `i` of the last window, or "" when none (no row at or
  // before its time, or expired). Valid until the next Match.
  absl::string_view Row(size_t i) const {
    return offsets_[i] < 0 ? absl::string_view()
                           : absl::string_view(arena_.data() + offsets_[i], lengths_[i]);
  }

  const RowSchema& schema() const { return schema_; }
  // Counters since creation, for tuning and benchmarks.
  int64_t seeks() const { return seeks_; }
  int64_t steps() const { return steps_; }

 private:
  AsOfMatcher(RowSchema schema, std::unique_ptr<kv::Iterator> it, int max_steps);

  // One label event of the window, in sort form.
  struct Event {
    uint32_t entity;  // Distinct-entity id, then its rank in key order.
    int64_t time;
    uint32_t index;  // Position in the window.
  };

  // Moves the iterator to the first key >= target, knowing targets only grow within a window.
  void Position(absl::string_view target, bool first);
  void SortEvents(absl::Span<const std::string* const> keys, absl::Span<const int64_t> times);

  const RowSchema schema_;
  const std::string prefix_;
  const int max_steps_;
  std::unique_ptr<kv::Iterator> it_;
  // Whether the iterator has moved since the row under it was last copied to the arena.
  bool moved_ = true;
  // Sorting state, kept to reuse its memory: entity -> id, ids -> entity, ranks, events.
  absl::flat_hash_map<absl::string_view, uint32_t> entity_ids_;
  std::vector<absl::string_view> distinct_;
  std::vector<uint32_t> ranks_;    // Ids in key order.
  std::vector<uint32_t> rank_of_;  // Id -> rank.
  std::vector<Event> events_;
  std::string target_;  // The seek target being matched.
  // Matched rows: offsets_[i] into arena_ (-1 = none) and their lengths.
  std::string arena_;
  std::vector<int64_t> offsets_;
  std::vector<uint32_t> lengths_;
  int64_t seeks_ = 0;
  int64_t steps_ = 0;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_AS_OF_MATCHER_H_
