#include "libs/features/storage/tile_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"
#include "libs/kv/iterator.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {
namespace {

// The most tiles stepped over between two runs before seeking instead.
constexpr int kMaxSteps = 4;

}  // namespace

absl::StatusOr<std::unique_ptr<TileReader>> TileReader::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("TileReaderOptions.store is required");
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily tiles, options.store->Family(options.tiles_family));
  return std::unique_ptr<TileReader>(new TileReader(std::move(options), tiles));
}

absl::Status TileReader::Read(const std::string& group, const AggregationPlan& plan,
                              absl::Span<const std::string> entities, int64_t as_of_micros,
                              absl::Span<const std::pair<int, int>> outputs,
                              std::vector<std::vector<std::optional<double>>>* values,
                              bool memory_only) const {
  // The distinct window lengths asked for, and the window of each output.
  std::vector<int64_t> lengths;
  std::vector<size_t> window_of(outputs.size());
  for (size_t o = 0; o < outputs.size(); ++o) {
    const int64_t k = plan.aggregations()[outputs[o].first].window_tiles[outputs[o].second];
    auto it = std::find(lengths.begin(), lengths.end(), k);
    if (it == lengths.end()) it = lengths.insert(lengths.end(), k);
    window_of[o] = static_cast<size_t>(it - lengths.begin());
  }
  // Each window's cover; then every tile any window needs, once, in key order (level, then
  // index), with the set of windows whose cover names it (covers of different windows may cut
  // the same span into different tiles, so membership comes from the covers, not the times).
  std::vector<std::vector<TileRef>> covers(lengths.size());
  std::vector<TileRef> tiles;
  for (size_t w = 0; w < lengths.size(); ++w) {
    plan.pyramid().WindowTiles(as_of_micros, lengths[w], &covers[w]);
    tiles.insert(tiles.end(), covers[w].begin(), covers[w].end());
  }
  const auto before = [](const TileRef& a, const TileRef& b) {
    return a.level != b.level ? a.level < b.level : a.index < b.index;
  };
  std::sort(tiles.begin(), tiles.end(), before);
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  const size_t words = (lengths.size() + 63) / 64;
  std::vector<uint64_t> members(tiles.size() * words, 0);
  for (size_t w = 0; w < lengths.size(); ++w) {
    for (const TileRef& ref : covers[w]) {
      const size_t i = std::lower_bound(tiles.begin(), tiles.end(), ref, before) - tiles.begin();
      members[i * words + w / 64] |= uint64_t{1} << (w % 64);
    }
  }
  std::vector<TileRun> runs;
  for (size_t i = 0; i < tiles.size(); ++i) {
    if (runs.empty() || runs.back().level != tiles[i].level || runs.back().end != tiles[i].index) {
      runs.push_back({tiles[i].level, tiles[i].index, tiles[i].index, i});
    }
    runs.back().end = tiles[i].index + 1;
  }

  // One state per entity and window, all of the plan's slot layout; each tile read is decoded
  // once and merged into the windows that name it.
  std::vector<TileState> windows(entities.size() * lengths.size(), TileState(plan.slot_fields()));
  TileState tile(plan.slot_fields());
  auto add = [&](size_t e, size_t i, absl::string_view value) -> absl::Status {
    tile.Reset();
    RETURN_IF_ERROR(tile.MergeEncoded(value));
    for (size_t w = 0; w < lengths.size(); ++w) {
      if (members[i * words + w / 64] & (uint64_t{1} << (w % 64))) {
        windows[e * lengths.size() + w].Merge(tile);
      }
    }
    return absl::OkStatus();
  };
  absl::Status read = ReadRuns(group, entities, runs, memory_only, add);
  if (memory_only && !read.ok() && !kv::IsNotInMemory(read)) {
    // An iterator reports a read that needed the disk as a plain error; point reads tell it
    // apart (kv::IsNotInMemory), so the caller can hand the lookup to a thread that may wait.
    for (TileState& window : windows) window.Reset();
    read = ReadPoints(group, entities, tiles, memory_only, add);
  }
  RETURN_IF_ERROR(read);

  values->assign(outputs.size(), std::vector<std::optional<double>>(entities.size()));
  for (size_t e = 0; e < entities.size(); ++e) {
    for (size_t o = 0; o < outputs.size(); ++o) {
      const PlannedAggregation& a = plan.aggregations()[outputs[o].first];
      (*values)[o][e] =
          FinalizeSlot(a.function, windows[e * lengths.size() + window_of[o]].slot(a.slot));
    }
  }
  return absl::OkStatus();
}

absl::Status TileReader::ReadRuns(const std::string& group, absl::Span<const std::string> entities,
                                  absl::Span<const TileRun> runs, bool memory_only,
                                  const OnTile& on_tile) const {
  // Most tiles a cover names are absent (no event in them): one Seek per run of consecutive
  // tiles and a forward step over the few present ones costs less than a point read of each.
  kv::ReadOptions options;
  options.memory_only = memory_only;
  ASSIGN_OR_RETURN(
      std::unique_ptr<kv::Iterator> it,
      options_.store->NewIterator(
          tiles_, kv::KeyRange::Between(TileGroupBegin(group), TileGroupEnd(group)), options));
  int64_t read = 0;
  std::string key;
  std::string end_key;
  // After a run's scan the iterator rests on the first key >= `floor` (or past the range). When
  // that is also the first key >= the next run's start, as it is wherever no tile lies between
  // the runs, the next run needs no Seek; when a few tiles lie between, it steps over them.
  // Within one entity only: the family's iterators are in prefix mode (tile_family.h), in key
  // order within an entity, so each entity starts with a Seek.
  std::string floor;
  bool resting = false;
  for (size_t e = 0; e < entities.size(); ++e) {
    const std::string prefix = EntityKeyPrefix(group, entities[e]);
    resting = false;
    for (const TileRun& run : runs) {
      key = prefix;
      AppendTileSuffix(&key, run.level, run.first);
      end_key = prefix;
      AppendTileSuffix(&end_key, run.level, run.end);
      if (!resting || floor > key) {
        it->Seek(key);
      } else {
        // A few tiles between the runs (at most kMaxSteps, so a lookup's cost stays bounded
        // whatever lies between) cost less to step over than a Seek, which searches the memtable
        // and every file that may hold the entity.
        int steps = 0;
        while (it->Valid() && it->key() < key && steps < kMaxSteps) {
          it->Next();
          ++steps;
          ++read;
        }
        if (it->Valid() && it->key() < key) it->Seek(key);
      }
      for (; it->Valid(); it->Next()) {
        ++read;
        const absl::string_view found = it->key();
        if (found >= end_key) break;
        // Between two keys of the run, so it has the run's prefix and level.
        kv::KeyReader suffix(found.substr(prefix.size() + 1));
        absl::StatusOr<int64_t> index = suffix.ReadInt64();
        if (!index.ok() || *index < run.first || *index >= run.end) {
          return absl::DataLossError(
              absl::StrCat("malformed tile key in aggregation group '", group, "'"));
        }
        RETURN_IF_ERROR(on_tile(e, run.tile + (*index - run.first), it->value()));
      }
      RETURN_IF_ERROR(it->status());
      floor.swap(end_key);
      resting = true;
    }
  }
  tiles_read_.fetch_add(read, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status TileReader::ReadPoints(const std::string& group,
                                    absl::Span<const std::string> entities,
                                    absl::Span<const TileRef> tiles, bool memory_only,
                                    const OnTile& on_tile) const {
  std::vector<std::string> keys;
  keys.reserve(entities.size() * tiles.size());
  for (const std::string& entity : entities) {
    const std::string prefix = EntityKeyPrefix(group, entity);
    for (const TileRef& ref : tiles) {
      std::string& key = keys.emplace_back(prefix);
      AppendTileSuffix(&key, ref.level, ref.index);
    }
  }
  kv::ReadOptions read;
  read.memory_only = memory_only;
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> found,
                   options_.store->MultiGet(tiles_, keys, read));
  tiles_read_.fetch_add(static_cast<int64_t>(keys.size()), std::memory_order_relaxed);
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i].has_value()) continue;
    RETURN_IF_ERROR(on_tile(i / tiles.size(), i % tiles.size(), *found[i]));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
