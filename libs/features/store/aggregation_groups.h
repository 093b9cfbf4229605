#ifndef FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_GROUPS_H_
#define FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_GROUPS_H_

// AggregationGroups: the feature store's aggregation groups (FeatureGroupSpec.aggregation), from
// apply to lookup. It keeps each group's AggregationPlan, indexed by source group, and:
//   * applies a group: checks it against its source, fills in the features the plan outputs,
//     refuses any change after the first apply but description, tags and owner, and, for a new
//     group, computes its tiles from the source's history (the backfill) before the catalog
//     records it, so a process that dies mid-backfill leaves no group behind;
//   * at ingest into a source: rejects rows later than a group's lateness bound, and adds the
//     tile updates of every group the source feeds to the batch's own commit;
//   * answers lookups of aggregation features from the tiles.
//
// Backfill and ingest exclude each other through feed_mu(): an ingest into any group holds it
// shared from the moment it looks up the groups a source feeds until its batch is committed, and
// a backfill holds it exclusively from clearing the new group's tiles until the catalog publishes
// it. So every source row is counted once: committed before the backfill's scan, or after the
// group is registered and with its tiles.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/features/catalog/catalog.h"
#include "libs/features/catalog/row_validator.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/history_reader.h"
#include "libs/features/storage/tile_cache.h"
#include "libs/features/storage/tile_reader.h"
#include "libs/kv/store.h"

namespace fabrique::features {

// Called as a backfill goes, and once at its end.
using BackfillProgress = std::function<void(const v1::AggregationBackfillProgress&)>;

// An aggregation group as ingest and lookup use it.
struct AggregationGroup {
  std::string name;
  std::shared_ptr<const AggregationPlan> plan;
};

struct AggregationGroupsOptions {
  // Not owned; must outlive the object. Required.
  kv::Store* store = nullptr;
  Catalog* catalog = nullptr;
  const HistoryReader* history = nullptr;
  // Default: the real clock.
  core::Clock* clock = nullptr;
  // Default: "tiles".
  std::string tiles_family = "tiles";
  // Source rows per backfill write (and per progress report). Default: 65536.
  int backfill_batch_rows = 65536;
  // Bytes of merged tiles kept for lookups of recently read entities (TileCacheOptions::
  // capacity_bytes); 0 = none, every lookup reads the store. Default: 64 MiB.
  size_t tile_cache_bytes = TileCacheOptions().capacity_bytes;
};

class AggregationGroups {
 public:
  using Options = AggregationGroupsOptions;

  // Plans every aggregation group of the catalog. INVALID_ARGUMENT for missing options; the
  // store's errors; a stored group whose plan no longer builds is an INTERNAL error naming it.
  static absl::StatusOr<std::unique_ptr<AggregationGroups>> Create(Options options);

  // True when `group` is an aggregation group.
  static bool IsAggregation(const v1::FeatureGroup& group) {
    return group.spec().has_aggregation();
  }

  // Applies `request` when it defines an aggregation group or names one; nullopt when it is a
  // plain group's business (the caller applies it). Errors: INVALID_ARGUMENT (features listed,
  // another entity than the source's, an aggregation over an aggregation group, the plan's
  // errors), NOT_FOUND (the source), FAILED_PRECONDITION (a change after apply, a plain group
  // turned into an aggregation group or back), the catalog's and the store's errors.
  std::optional<absl::StatusOr<v1::ApplyFeatureGroupResponse>> Apply(
      const v1::ApplyFeatureGroupRequest& request, const v1::Principal& caller,
      const BackfillProgress& progress);

  // Held shared by ingest from FedBy to its commit (see above).
  absl::Mutex& feed_mu() ABSL_LOCK_RETURNED(feed_mu_) { return feed_mu_; }
  // The aggregation groups `source` feeds.
  std::vector<AggregationGroup> FedBy(const std::string& source) const;
  // The plan of aggregation group `name`, or null.
  std::shared_ptr<const AggregationPlan> PlanOf(const std::string& name) const;

  // Marks the good rows of `rows` whose event time is later than a fed group's lateness bound
  // (REJECT_REASON_TOO_LATE, naming the group and the bound), updating `validation`'s counts
  // and details (at most `max_details`, in row order).
  void RejectLate(const std::vector<AggregationGroup>& fed, const v1::RowBatch& rows,
                  int64_t max_details, ValidationResult* validation) const;
  // The tile writes of the rows `skip` leaves, for every group in `fed`; null when `fed` is
  // empty. The references must outlive the returned function's call. Destroy the function (every
  // copy) once the write that called it has returned, committed or not: that drops the written
  // entities' cached tiles, so that lookups after the write see it. Rows with the same entity
  // and event time count once within a batch, as history stores them once; a row re-sent in a
  // later batch counts again (history is not read on the write path, whose append-only memtable
  // makes point reads costly): re-send batches with their batch_id, which is idempotent.
  absl::StatusOr<ExtraWrites> TileWrites(const std::vector<AggregationGroup>& fed,
                                         const v1::RowBatch& rows, RowMask skip) const;

  // Fills `response` columns for aggregation features. See FeatureStore::LookupOnline.
  const TileReader& tiles() const { return *reader_; }
  // The cache of merged tiles; null when tile_cache_bytes is 0.
  const TileCache* tile_cache() const { return cache_.get(); }
  core::Clock& clock() const { return *options_.clock; }

 private:
  AggregationGroups(Options options, kv::ColumnFamily tiles, std::unique_ptr<TileCache> cache,
                    std::unique_ptr<TileReader> reader)
      : options_(std::move(options)),
        tiles_(tiles),
        cache_(std::move(cache)),
        reader_(std::move(reader)) {}

  // Clears `name`'s tiles, then computes them from `source`'s whole history.
  absl::Status Backfill(const std::string& name, const AggregationPlan& plan,
                        const v1::FeatureGroup& source, const BackfillProgress& progress);
  void Register(const std::string& name, std::shared_ptr<const AggregationPlan> plan)
      ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  const kv::ColumnFamily tiles_;
  const std::unique_ptr<TileCache> cache_;  // Before reader_, which uses it.
  const std::unique_ptr<TileReader> reader_;
  absl::Mutex feed_mu_;
  // Serializes aggregation applies (a backfill takes long; two at once would double the work).
  absl::Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(feed_mu_);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<AggregationGroup>> by_source_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<const AggregationPlan>> plans_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_GROUPS_H_
