#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_UPDATES_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_UPDATES_H_

// TileUpdates: the tile changes that rows of a source group make to one aggregation group,
// summed in memory per tile (one state per entity, level and tile, whatever the number of rows)
// and then appended to a kv::WriteBatch as merge operands of the tiles family, so that they
// commit in the same atomic write as the rows themselves.
//
// Tiles are appended in key order: the memtable inserts a run of ascending keys by extending
// its last insert position instead of searching its skip list from the top for each one,
// which is most of a large write's cost otherwise.
//
// Within one Add call, rows with the same entity and event time count once (the later one), as
// history stores them once.
//
// Not thread-safe; one per write.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  TileUpdates(std::string group, const AggregationPlan& plan);

  // Adds the rows of `rows` whose `skip` entry is 0 (every row when `skip` is empty).
  // INVALID_ARGUMENT for a malformed numeric column.
  absl::Status Add(const v1::RowBatch& rows, absl::Span<const uint8_t> skip = {});

  // Tiles changed so far.
  size_t size() const { return tiles_.size(); }
  // The entities whose tiles changed so far, each once.
  const std::vector<std::string>& entities() const { return entities_; }

  // How AppendTo writes a tile.
  enum class Write {
    // Adds the state to the stored tile (ingest: other batches write the same tiles).
    kMerge,
    // Replaces the stored tile: only when these updates hold every event of each tile they
    // touch (a backfill that cleared the group's tiles, writing each entity's tiles once).
    // Reads and compactions then have no operands left to combine.
    kPut,
  };
  // Appends one write per changed tile to `batch`, in key order, then forgets them.
  void AppendTo(kv::ColumnFamily tiles, kv::WriteBatch* batch, Write write = Write::kMerge);

 private:
  // A changed tile: its entity (an index into entities_), level and index.
  struct TileId {
    uint32_t entity;
    int32_t level;
    int64_t index;
    bool operator==(const TileId& o) const {
      return entity == o.entity && level == o.level && index == o.index;
    }
    template <typename H>
    friend H AbslHashValue(H h, const TileId& id) {
      return H::combine(std::move(h), id.entity, id.level, id.index);
    }
  };

  // The index of `entity` in entities_, adding it when new.
  uint32_t EntityId(absl::string_view entity);

  const std::string group_;
  const AggregationPlan& plan_;
  const int slots_;
  // Keys are small integers and states sit in one array (slots_ per tile), so a row costs no
  // allocation and no string hashing per tile; the keys are built once per tile at AppendTo.
  std::vector<std::string> entities_;
  absl::flat_hash_map<std::string, uint32_t> entity_ids_;
  absl::flat_hash_map<TileId, uint32_t> tiles_;  // The tile's first slot in states_.
  std::vector<SlotState> states_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_UPDATES_H_
