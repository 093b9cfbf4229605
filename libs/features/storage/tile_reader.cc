#include "libs/features/storage/tile_reader.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"
#include "libs/kv/iterator.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {

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
  // The distinct window lengths asked for, each with its tiles (the same for every entity).
  std::map<int64_t, std::vector<TileRef>> windows;
  for (const auto& [a, w] : outputs) {
    windows.try_emplace(plan.aggregations()[a].window_tiles[w]);
  }
  for (auto& [k, refs] : windows) plan.pyramid().WindowTiles(as_of_micros, k, &refs);
  // Every tile any window needs, once, in key order (level, then index).
  std::vector<TileRef> tiles;
  for (const auto& [k, refs] : windows) tiles.insert(tiles.end(), refs.begin(), refs.end());
  std::sort(tiles.begin(), tiles.end(), [](const TileRef& a, const TileRef& b) {
    return a.level != b.level ? a.level < b.level : a.index < b.index;
  });
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  absl::flat_hash_map<std::pair<int, int64_t>, size_t> tile_index;
  std::vector<TileRun> runs;
  for (size_t i = 0; i < tiles.size(); ++i) {
    tile_index.emplace(std::make_pair(tiles[i].level, tiles[i].index), i);
    if (runs.empty() || runs.back().level != tiles[i].level || runs.back().end != tiles[i].index) {
      runs.push_back({tiles[i].level, tiles[i].index, tiles[i].index, i});
    }
    runs.back().end = tiles[i].index + 1;
  }

  // decoded[e * tiles + i]: entity e's tile i, empty where absent.
  std::vector<TileState> decoded(entities.size() * tiles.size());
  absl::Status read = ReadRuns(group, entities, tiles.size(), runs, memory_only, &decoded);
  if (memory_only && !read.ok() && !kv::IsNotInMemory(read)) {
    // An iterator reports a read that needed the disk as a plain error; point reads tell it
    // apart (kv::IsNotInMemory), so the caller can hand the lookup to a thread that may wait.
    read = ReadPoints(group, entities, tiles, memory_only, &decoded);
  }
  RETURN_IF_ERROR(read);

  values->assign(outputs.size(), std::vector<std::optional<double>>(entities.size()));
  for (size_t e = 0; e < entities.size(); ++e) {
    const TileState* entity_tiles = decoded.data() + e * tiles.size();
    for (const auto& [k, refs] : windows) {
      TileState window(static_cast<int>(plan.aggregations().size()));
      for (const TileRef& ref : refs) {
        window.Merge(entity_tiles[tile_index.at(std::make_pair(ref.level, ref.index))]);
      }
      for (size_t o = 0; o < outputs.size(); ++o) {
        const auto& [a, w] = outputs[o];
        if (plan.aggregations()[a].window_tiles[w] != k) continue;
        (*values)[o][e] = FinalizeSlot(plan.aggregations()[a].function, window.slot(a));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status TileReader::ReadRuns(const std::string& group, absl::Span<const std::string> entities,
                                  size_t tile_count, absl::Span<const TileRun> runs,
                                  bool memory_only, std::vector<TileState>* decoded) const {
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
  // the runs, the next run needs no Seek.
  std::string floor;
  bool resting = false;
  for (size_t e = 0; e < entities.size(); ++e) {
    const std::string prefix = EntityKeyPrefix(group, entities[e]);
    TileState* entity_tiles = decoded->data() + e * tile_count;
    for (const TileRun& run : runs) {
      key = prefix;
      AppendTileSuffix(&key, run.level, run.first);
      end_key = prefix;
      AppendTileSuffix(&end_key, run.level, run.end);
      if (!resting || floor > key || (it->Valid() && it->key() < key)) it->Seek(key);
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
        ASSIGN_OR_RETURN(entity_tiles[run.tile + (*index - run.first)],
                         TileState::Decode(it->value()));
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
                                    std::vector<TileState>* decoded) const {
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
    (*decoded)[i] = TileState();
    if (!found[i].has_value()) continue;
    ASSIGN_OR_RETURN((*decoded)[i], TileState::Decode(*found[i]));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
