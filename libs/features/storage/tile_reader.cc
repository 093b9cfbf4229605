#include "libs/features/storage/tile_reader.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"

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
                              std::vector<std::vector<std::optional<double>>>* values) const {
  // The distinct window lengths asked for, each with its tiles (the same for every entity).
  std::map<int64_t, std::vector<TileRef>> windows;
  for (const auto& [a, w] : outputs) {
    windows.try_emplace(plan.aggregations()[a].window_tiles[w]);
  }
  for (auto& [k, refs] : windows) plan.pyramid().WindowTiles(as_of_micros, k, &refs);
  // Every tile any window needs, once: keys[e * tiles + i].
  std::vector<TileRef> tiles;
  absl::flat_hash_map<std::pair<int, int64_t>, size_t> tile_index;
  for (const auto& [k, refs] : windows) {
    for (const TileRef& ref : refs) {
      if (tile_index.try_emplace(std::make_pair(ref.level, ref.index), tiles.size()).second) {
        tiles.push_back(ref);
      }
    }
  }
  std::vector<std::string> keys;
  keys.reserve(entities.size() * tiles.size());
  for (const std::string& entity : entities) {
    const std::string prefix = EntityKeyPrefix(group, entity);
    for (const TileRef& ref : tiles) {
      std::string& key = keys.emplace_back(prefix);
      AppendTileSuffix(&key, ref.level, ref.index);
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> found,
                   options_.store->MultiGet(tiles_, keys));
  tiles_read_.fetch_add(static_cast<int64_t>(keys.size()), std::memory_order_relaxed);

  values->assign(outputs.size(), std::vector<std::optional<double>>(entities.size()));
  std::vector<TileState> decoded(tiles.size());
  for (size_t e = 0; e < entities.size(); ++e) {
    for (size_t i = 0; i < tiles.size(); ++i) {
      decoded[i] = TileState();
      const std::optional<std::string>& bytes = found[e * tiles.size() + i];
      if (!bytes.has_value()) continue;
      ASSIGN_OR_RETURN(decoded[i], TileState::Decode(*bytes));
    }
    for (const auto& [k, refs] : windows) {
      TileState window(static_cast<int>(plan.aggregations().size()));
      for (const TileRef& ref : refs) {
        window.Merge(decoded[tile_index.at(std::make_pair(ref.level, ref.index))]);
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

}  // namespace fabrique::features
