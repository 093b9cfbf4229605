#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_UPDATES_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_UPDATES_H_

// TileUpdates: the tile changes that rows of a source group make to one aggregation group,
// summed in memory per tile (one state per entity, level and tile, whatever the number of rows)
// and then appended to a kv::WriteBatch as merge operands of the tiles family, so that they
// commit in the same atomic write as the rows themselves.
//
// Within one Add call, rows with the same entity and event time count once (the later one), as
// history stores them once.
//
// Not thread-safe; one per write.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/kv/store.h"

namespace fabrique::features {

class TileUpdates {
 public:
  // `plan` must outlive the updates.
  TileUpdates(std::string group, const AggregationPlan& plan)
      : group_(std::move(group)), plan_(plan) {}

  // Adds the rows of `rows` whose `skip` entry is 0 (every row when `skip` is empty).
  // INVALID_ARGUMENT for a malformed numeric column.
  absl::Status Add(const v1::RowBatch& rows, absl::Span<const uint8_t> skip = {});

  // Tiles changed so far.
  size_t size() const { return tiles_.size(); }
  // Appends one merge per changed tile to `batch`, then forgets them.
  void AppendTo(kv::ColumnFamily tiles, kv::WriteBatch* batch);

 private:
  const std::string group_;
  const AggregationPlan& plan_;
  absl::flat_hash_map<std::string, TileState> tiles_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_UPDATES_H_
