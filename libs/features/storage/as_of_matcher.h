#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_AS_OF_MATCHER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_AS_OF_MATCHER_H_

// AsOfMatcher: the inner loop of the point-in-time join for one feature group. Given a window of
// label events (entity key, time), it finds for each one the group's newest history row with
// event_time <= time, and drops it when older than the group's TTL at that time
// (time - event_time > ttl).
//
// The answer to (entity, T) is the first history key >= HistoryKey(group, entity, T) if that key
// still belongs to the entity. The window's events are sorted in key order (by entity rank and
// time, integers, not by comparing key strings: a counting sort by entity, then each entity's few
// events by time), so the one iterator only moves forward. A target is reached with Next() calls
// when it is expected within a few rows (from the mean time between an entity's rows seen so
// far), else with a Seek: a Seek costs about ten Next() calls, and blind stepping wastes them when
// the target is far. Matched rows are copied once into an arena (events sharing a row share the
// copy) so the join can emit them later in the events' original order. Memory: O(window),
// whatever the history size.
//
// With `threads` > 1 the sorted events are cut at entity boundaries into that many runs, each
// matched by its own thread with its own iterator (and arena) over the same snapshot: the
// iterator's Seek and Next calls are most of a join's cost, and RocksDB reads scale with threads.
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

// The entity keys of a window's events in one buffer: no allocation per key, and 8 bytes of
// overhead per key instead of a std::string's 32.
class KeyBuffer {
 public:
  void Append(absl::string_view key) {
    bytes_.append(key.data(), key.size());
    ends_.push_back(bytes_.size());
  }
  absl::string_view Get(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return absl::string_view(bytes_.data() + begin, ends_[i] - begin);
  }
  size_t size() const { return ends_.size(); }
  void Clear() {
    bytes_.clear();
    ends_.clear();
  }

 private:
  std::string bytes_;
  std::vector<size_t> ends_;
};

class AsOfMatcher {
 public:
  // Reads `history` of `store` through `read` (its snapshot must outlive the matcher), trying
  // up to `max_steps` Next() calls before a Seek when the target is expected that near, with up
  // to `threads` threads (at least 1) on windows large enough to share.
  static absl::StatusOr<std::unique_ptr<AsOfMatcher>> Create(const kv::Store& store,
                                                             kv::ColumnFamily history,
                                                             RowSchema schema,
                                                             const kv::ReadOptions& read,
                                                             int max_steps, int threads = 1);
  ~AsOfMatcher();

  // Matches events i < keys.size() (keys.Get(i), times[i]); replaces the previous window's
  // matches.
  absl::Status Match(const KeyBuffer& keys, absl::Span<const int64_t> times);

  // The encoded row matched to event `i` of the last window, or "" when none (no row at or
  // before its time, or expired). Valid until the next Match.
  absl::string_view Row(size_t i) const {
    return offsets_[i] < 0
               ? absl::string_view()
               : absl::string_view(cursors_[cursor_of_[i]].arena.data() + offsets_[i], lengths_[i]);
  }

  const RowSchema& schema() const { return schema_; }
  // Counters since creation over all threads, for tuning and benchmarks.
  int64_t seeks() const;
  int64_t steps() const;

 private:
  // What one matching thread owns: its iterator and the rows it copied.
  struct Cursor {
    std::unique_ptr<kv::Iterator> it;
    // Whether the iterator has moved since the row under it was last copied to the arena.
    bool moved = true;
    std::string target;  // The seek target being matched.
    std::string arena;   // Matched rows.
    int64_t seeks = 0;
    int64_t steps = 0;
    // Time between consecutive rows of one entity, summed over the steps that saw two: the mean
    // predicts how many rows lie before a target. A double: a sum of int64 gaps could overflow.
    double gap_sum = 0;
    int64_t gaps = 0;
  };

  AsOfMatcher(RowSchema schema, std::vector<Cursor> cursors, int max_steps);

  // One label event of the window, in sort form.
  struct Event {
    uint32_t entity;  // Distinct-entity id, then its rank in key order.
    int64_t time;
    uint32_t index;  // Position in the window.
  };

  // Moves the cursor's iterator to the first key >= its target (of time `time`), knowing targets
  // only grow within a run. `entity_prefix`: the bytes of the target naming its entity.
  void Position(Cursor& cursor, size_t entity_prefix, int64_t time, bool first) const;
  // Matches the sorted events [begin, end) with `cursor` (cursor number `c`).
  absl::Status MatchRun(size_t c, size_t begin, size_t end);
  void SortEvents(const KeyBuffer& keys, absl::Span<const int64_t> times);

  const RowSchema schema_;
  const std::string prefix_;
  const int max_steps_;
  std::vector<Cursor> cursors_;
  // Sorting state, kept to reuse its memory: entity -> id, ids -> entity, ranks, events.
  absl::flat_hash_map<absl::string_view, uint32_t> entity_ids_;
  std::vector<absl::string_view> distinct_;
  std::vector<uint32_t> ranks_;    // Ids in key order.
  std::vector<uint32_t> rank_of_;  // Id -> rank.
  std::vector<Event> events_;
  std::vector<Event> sorted_;
  std::vector<uint32_t> starts_;  // Counting sort: first slot of each rank in sorted_.
  // Matched rows: offsets_[i] into the arena of cursor cursor_of_[i] (-1 = none), their lengths.
  std::vector<int64_t> offsets_;
  std::vector<uint32_t> lengths_;
  std::vector<uint8_t> cursor_of_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_AS_OF_MATCHER_H_
