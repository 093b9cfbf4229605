#include "libs/features/storage/tile_updates.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"

namespace fabrique::features {

absl::Status TileUpdates::Add(const v1::RowBatch& rows, absl::Span<const uint8_t> skip) {
  const int n = rows.entity_keys_size();
  if (rows.event_time_unix_micros_size() != n || (!skip.empty() && skip.size() != size_t(n))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a batch of ", n, " entity keys has ", rows.event_time_unix_micros_size(), " event times"));
  }
  // Rows that a later row of the batch with the same entity and time replaces in history.
  std::vector<uint8_t> mask(skip.begin(), skip.end());
  mask.resize(n, 0);
  absl::flat_hash_map<std::pair<absl::string_view, int64_t>, int> last;
  for (int r = 0; r < n; ++r) {
    if (mask[r]) continue;
    auto [it, inserted] = last.try_emplace(
        std::make_pair(absl::string_view(rows.entity_keys(r)), rows.event_time_unix_micros(r)), r);
    if (!inserted) {
      mask[it->second] = 1;
      it->second = r;
    }
  }
  std::vector<SlotInputs> inputs;
  RETURN_IF_ERROR(plan_.Inputs(rows, mask, &inputs));
  const int slots = static_cast<int>(plan_.aggregations().size());
  std::vector<TileRef> refs;
  std::string key;
  for (int r = 0; r < n; ++r) {
    if (mask[r]) continue;
    const int64_t time = rows.event_time_unix_micros(r);
    refs.clear();
    plan_.pyramid().TilesOf(time, &refs);
    key = EntityKeyPrefix(group_, rows.entity_keys(r));
    const size_t prefix = key.size();
    for (const TileRef& ref : refs) {
      key.resize(prefix);
      AppendTileSuffix(&key, ref.level, ref.index);
      auto [it, inserted] = tiles_.try_emplace(key, slots);
      for (int s = 0; s < slots; ++s) {
        if (inputs[s].present[r]) it->second.slot(s).Add(time, inputs[s].values[r]);
      }
    }
  }
  return absl::OkStatus();
}

void TileUpdates::AppendTo(kv::ColumnFamily tiles, kv::WriteBatch* batch) {
  std::string value;
  for (const auto& [key, state] : tiles_) {
    value.clear();
    state.AppendTo(&value);
    batch->Merge(tiles, key, value);
  }
  tiles_.clear();
}

}  // namespace fabrique::features
