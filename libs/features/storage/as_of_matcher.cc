#include "libs/features/storage/as_of_matcher.h"

#include <algorithm>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <numeric>
#include <thread>
#include <utility>

#include "libs/core/status_macros.h"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {
namespace {

// Windows smaller than this many events per thread are matched by fewer threads: starting a
// thread and seeking a fresh iterator cost more than they save there.
constexpr size_t kMinEventsPerThread = 16384;
constexpr int kMaxThreads = 64;

// Asks for transparent huge pages on the whole 2 MiB pages inside [data, data + size), where
// the kernel gives them on request (transparent_hugepage=madvise). The arena is read in random
// order (rows are copied in key order and emitted in event order): with 4 KiB pages nearly
// every row read is a TLB miss, which profiles showed stalling the emitting loop.
void AdviseHugePages(const char* data, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + size) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

// Whether the first `n` bytes of `a` and `b` are equal. Inline, 8 bytes at a time: keys are
// compared several times per event, and memcmp calls on ~20 bytes were ~7% of a join profile.
inline bool SamePrefix(const char* a, const char* b, size_t n) {
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
  }
  for (; n > 0; ++a, ++b, --n) {
    if (*a != *b) return false;
  }
  return true;
}

// The last 8 bytes of a history key (its encoded time) as a big-endian number: two keys of one
// entity compare like these numbers.
inline uint64_t TimeBytes(absl::string_view key) {
  uint64_t value = 0;
  for (size_t i = key.size() - kHistoryTimeBytes; i < key.size(); ++i) {
    value = value << 8 | static_cast<uint8_t>(key[i]);
  }
  return value;
}

// Whether history key `key` belongs to the entity of `target` (whose first `entity_prefix`
// bytes name it): the entity prefix plus 8 bytes of time.
inline bool InEntity(absl::string_view key, absl::string_view target, size_t entity_prefix) {
  return key.size() == target.size() && SamePrefix(key.data(), target.data(), entity_prefix);
}

// key >= target, knowing whether key is in target's entity (then only the times differ).
inline bool AtOrPast(absl::string_view key, absl::string_view target, bool same_entity) {
  return same_entity ? TimeBytes(key) >= TimeBytes(target) : key >= target;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AsOfMatcher>> AsOfMatcher::Create(const kv::Store& store,
                                                                 kv::ColumnFamily history,
                                                                 RowSchema schema,
                                                                 const kv::ReadOptions& read,
                                                                 int max_steps, int threads) {
  // No upper bound: RocksDB would compare every key it passes with it (measured ~10% of a
  // join). Match checks each key's entity prefix anyway, and a key past the group's last one
  // belongs to no entity of the group: the events after it have no row, as they should.
  const kv::KeyRange range{GroupKeyPrefix(schema.group()), ""};
  std::vector<Cursor> cursors(std::clamp(threads, 1, kMaxThreads));
  for (Cursor& cursor : cursors) {
    ASSIGN_OR_RETURN(cursor.it, store.NewIterator(history, range, read));
  }
  return std::unique_ptr<AsOfMatcher>(
      new AsOfMatcher(std::move(schema), std::move(cursors), std::max(0, max_steps)));
}

AsOfMatcher::AsOfMatcher(RowSchema schema, std::vector<Cursor> cursors, int max_steps)
    : schema_(std::move(schema)),
      prefix_(GroupKeyPrefix(schema_.group())),
      max_steps_(max_steps),
      cursors_(std::move(cursors)) {}

AsOfMatcher::~AsOfMatcher() = default;

int64_t AsOfMatcher::seeks() const {
  int64_t total = 0;
  for (const Cursor& cursor : cursors_) total += cursor.seeks;
  return total;
}

int64_t AsOfMatcher::steps() const {
  int64_t total = 0;
  for (const Cursor& cursor : cursors_) total += cursor.steps;
  return total;
}

void AsOfMatcher::Position(Cursor& cursor, size_t entity_prefix, int64_t time, bool first) const {
  kv::Iterator& it = *cursor.it;
  const absl::string_view target = cursor.target;
  if (first) {
    it.Seek(target);
    ++cursor.seeks;
    cursor.moved = true;
    return;
  }
  // Past the end stays past the end (targets only grow); a key >= target is already the answer.
  if (!it.Valid()) return;
  absl::string_view key = it.key();
  bool same = InEntity(key, target, entity_prefix);
  if (AtOrPast(key, target, same)) return;
  // How many Next() calls to risk. On the target's entity, with a mean gap known, the rows before
  // the target are about (current time - target time) / gap: step when that is within
  // max_steps_ (allowing twice as many), else Seek at once. Otherwise one step, which is all it
  // takes when the target is the very next row, and which teaches the first gaps.
  int budget = std::min(1, max_steps_);
  if (same && cursor.gaps > 0) {
    // Unsigned: the difference of two int64 times cannot overflow, and key < target means the
    // key's time is the later one.
    const uint64_t span =
        static_cast<uint64_t>(HistoryKeyEventTime(key)) - static_cast<uint64_t>(time);
    const double mean = std::max(1.0, cursor.gap_sum / static_cast<double>(cursor.gaps));
    budget = static_cast<double>(span) / mean < max_steps_ ? 2 * max_steps_ : 0;
  }
  for (int step = 0; step < budget; ++step) {
    const int64_t before = same ? HistoryKeyEventTime(key) : 0;
    it.Next();
    ++cursor.steps;
    cursor.moved = true;
    if (!it.Valid()) return;
    key = it.key();
    const bool now_same = InEntity(key, target, entity_prefix);
    if (same && now_same) {
      cursor.gap_sum += static_cast<double>(before) - static_cast<double>(HistoryKeyEventTime(key));
      ++cursor.gaps;
    }
    same = now_same;
    if (AtOrPast(key, target, same)) return;
  }
  it.Seek(target);
  ++cursor.seeks;
  cursor.moved = true;
}

// Orders the window's events in key order (entity ascending, then newest first) without
// comparing strings per pair: distinct entities are ranked once (a hash map and a sort of the
// distinct keys), the events are placed by rank with a counting sort, and each entity's few
// events are then sorted by time.
void AsOfMatcher::SortEvents(const KeyBuffer& keys, absl::Span<const int64_t> times) {
  const size_t n = keys.size();
  entity_ids_.clear();
  distinct_.clear();
  events_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] =
        entity_ids_.try_emplace(keys.Get(i), static_cast<uint32_t>(distinct_.size()));
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
  starts_.assign(distinct_.size() + 1, 0);
  for (Event& event : events_) {
    event.entity = rank_of_[event.entity];
    ++starts_[event.entity + 1];
  }
  std::partial_sum(starts_.begin(), starts_.end(), starts_.begin());
  sorted_.resize(n);
  for (const Event& event : events_) sorted_[starts_[event.entity]++] = event;
  // starts_[r] is now the end of rank r's events.
  uint32_t begin = 0;
  for (size_t r = 0; r < distinct_.size(); ++r) {
    const uint32_t end = starts_[r];
    std::sort(sorted_.begin() + begin, sorted_.begin() + end,
              [](const Event& a, const Event& b) { return a.time > b.time; });
    begin = end;
  }
  events_.swap(sorted_);
}

absl::Status AsOfMatcher::Match(const KeyBuffer& keys, absl::Span<const int64_t> times) {
  SortEvents(keys, times);
  const size_t n = keys.size();
  offsets_.assign(n, -1);
  lengths_.assign(n, 0);
  cursor_of_.assign(n, 0);
  // Runs of about n / threads events, each ending at an entity boundary so that no entity is
  // split (an entity's targets must be visited in order by one iterator).
  const size_t runs = std::max<size_t>(1, std::min(cursors_.size(), n / kMinEventsPerThread));
  std::vector<size_t> bounds = {0};
  for (size_t r = 1; r < runs; ++r) {
    size_t cut = std::max(bounds.back(), n * r / runs);
    while (cut > 0 && cut < n && events_[cut].entity == events_[cut - 1].entity) ++cut;
    bounds.push_back(cut);
  }
  bounds.push_back(n);
  std::vector<absl::Status> results(runs);
  std::vector<std::thread> threads;
  for (size_t r = 1; r < runs; ++r) {
    threads.emplace_back([&, r] { results[r] = MatchRun(r, bounds[r], bounds[r + 1]); });
  }
  results[0] = MatchRun(0, bounds[0], bounds[1]);
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) RETURN_IF_ERROR(result);
  return absl::OkStatus();
}

absl::Status AsOfMatcher::MatchRun(size_t c, size_t begin, size_t end) {
  Cursor& cursor = cursors_[c];
  cursor.arena.clear();
  const int64_t ttl = schema_.ttl_micros();
  int64_t copied_offset = -1;
  uint32_t entity = UINT32_MAX;
  size_t entity_prefix = 0;
  for (size_t e = begin; e < end; ++e) {
    const Event& event = events_[e];
    if (event.entity != entity) {  // A new entity: its prefix, reused by its other events.
      entity = event.entity;
      cursor.target.assign(prefix_);
      AppendEntity(&cursor.target, distinct_[ranks_[entity]]);
      entity_prefix = cursor.target.size();
    }
    cursor.target.resize(entity_prefix);
    AppendEventTime(&cursor.target, event.time);
    Position(cursor, entity_prefix, event.time, /*first=*/e == begin);
    if (!cursor.it->Valid()) continue;
    const absl::string_view key = cursor.it->key();
    if (!InEntity(key, cursor.target, entity_prefix)) continue;
    if (IsExpired(event.time, HistoryKeyEventTime(key), ttl)) continue;
    if (cursor.moved) {
      const absl::string_view value = cursor.it->value();
      // Growing a large arena by doubling copies it again and again: size it once, from the
      // first row, for the whole run.
      if (cursor.arena.empty()) {
        cursor.arena.reserve((end - e + 1) * value.size());
        AdviseHugePages(cursor.arena.data(), cursor.arena.capacity());
      }
      copied_offset = static_cast<int64_t>(cursor.arena.size());
      cursor.arena.append(value.data(), value.size());
      cursor.moved = false;
    }
    offsets_[event.index] = copied_offset;
    lengths_[event.index] = static_cast<uint32_t>(cursor.arena.size() - copied_offset);
    cursor_of_[event.index] = static_cast<uint8_t>(c);
  }
  return cursor.it->status();
}

}  // namespace fabrique::features
