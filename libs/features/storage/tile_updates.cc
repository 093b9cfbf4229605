#include "libs/features/storage/tile_updates.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"

namespace fabrique::features {

TileUpdates::TileUpdates(std::string group, const AggregationPlan& plan)
    : group_(std::move(group)), plan_(plan), slots_(static_cast<int>(plan.slots().size())) {}

uint32_t TileUpdates::EntityId(absl::string_view entity) {
  auto [it, inserted] = entity_ids_.try_emplace(entity, static_cast<uint32_t>(entities_.size()));
  if (inserted) entities_.emplace_back(entity);
  return it->second;
}

absl::Status TileUpdates::Add(const v1::RowBatch& rows, absl::Span<const uint8_t> skip) {
  const int n = rows.entity_keys_size();
  if (rows.event_time_unix_micros_size() != n || (!skip.empty() && skip.size() != size_t(n))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a batch of ", n, " entity keys has ", rows.event_time_unix_micros_size(), " event times"));
  }
  std::vector<uint8_t> mask(skip.begin(), skip.end());
  mask.resize(n, 0);
  // Rows that a later row of the batch with the same entity and time replaces in history. Rows
  // in strictly ascending (entity, time) order, as history reads them, repeat nothing.
  bool ascending = true;
  for (int r = 0, previous = -1; r < n && ascending; ++r) {
    if (mask[r]) continue;
    if (previous >= 0) {
      const int order = rows.entity_keys(previous).compare(rows.entity_keys(r));
      ascending = order < 0 || (order == 0 && rows.event_time_unix_micros(previous) <
                                                  rows.event_time_unix_micros(r));
    }
    previous = r;
  }
  if (!ascending) {
    absl::flat_hash_map<std::pair<absl::string_view, int64_t>, int> last;
    for (int r = 0; r < n; ++r) {
      if (mask[r]) continue;
      auto [it, inserted] = last.try_emplace(
          std::make_pair(absl::string_view(rows.entity_keys(r)), rows.event_time_unix_micros(r)),
          r);
      if (!inserted) {
        mask[it->second] = 1;
        it->second = r;
      }
    }
  }
  std::vector<SlotInputs> inputs;
  RETURN_IF_ERROR(plan_.Inputs(rows, mask, &inputs));
  std::vector<TileRef> refs;
  const std::string* previous_entity = nullptr;
  uint32_t entity = 0;
  for (int r = 0; r < n; ++r) {
    if (mask[r]) continue;
    const std::string& key = rows.entity_keys(r);
    if (previous_entity == nullptr || *previous_entity != key) entity = EntityId(key);
    previous_entity = &key;
    const int64_t time = rows.event_time_unix_micros(r);
    refs.clear();
    plan_.pyramid().TilesOf(time, &refs);
    for (const TileRef& ref : refs) {
      auto [it, inserted] = tiles_.try_emplace(TileId{entity, ref.level, ref.index},
                                               static_cast<uint32_t>(states_.size()));
      if (inserted) states_.resize(states_.size() + slots_);
      SlotState* state = &states_[it->second];
      for (int s = 0; s < slots_; ++s) {
        if (inputs[s].present[r]) state[s].Add(time, inputs[s].values[r]);
      }
    }
  }
  return absl::OkStatus();
}

void TileUpdates::AppendTo(kv::ColumnFamily tiles, kv::WriteBatch* batch, Write write) {
  // Tile keys order by entity, then level, then index (tile_keys.h): rank the entities by key,
  // then sort integers.
  std::vector<uint32_t> by_key(entities_.size());
  for (uint32_t e = 0; e < by_key.size(); ++e) by_key[e] = e;
  std::sort(by_key.begin(), by_key.end(),
            [this](uint32_t a, uint32_t b) { return entities_[a] < entities_[b]; });
  std::vector<uint32_t> rank(entities_.size());
  for (uint32_t i = 0; i < by_key.size(); ++i) rank[by_key[i]] = i;
  struct Sorted {
    uint32_t rank;
    int32_t level;
    int64_t index;
    uint32_t state;
  };
  std::vector<Sorted> sorted;
  sorted.reserve(tiles_.size());
  for (const auto& [id, state] : tiles_) {
    sorted.push_back({rank[id.entity], id.level, id.index, state});
  }
  std::sort(sorted.begin(), sorted.end(), [](const Sorted& a, const Sorted& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.level != b.level) return a.level < b.level;
    return a.index < b.index;
  });
  TileState state(plan_.slot_fields());
  std::string key, value;
  size_t prefix = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Sorted& tile = sorted[i];
    if (i == 0 || tile.rank != sorted[i - 1].rank) {
      key = EntityKeyPrefix(group_, entities_[by_key[tile.rank]]);
      prefix = key.size();
    }
    key.resize(prefix);
    AppendTileSuffix(&key, tile.level, tile.index);
    for (int s = 0; s < slots_; ++s) state.slot(s) = states_[tile.state + s];
    value.clear();
    state.AppendTo(&value);
    if (write == Write::kPut) {
      batch->Put(tiles, key, value);
    } else {
      batch->Merge(tiles, key, value);
    }
  }
  entities_.clear();
  entity_ids_.clear();
  tiles_.clear();
  states_.clear();
}

}  // namespace fabrique::features
