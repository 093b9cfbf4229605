#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_H_

// Catalog: the feature store's definitions of entities and feature groups, and the data
// governance around them (naming rules, typed and versioned schemas, expectations). The
// FeatureStore service's definition calls map one-to-one onto it; ingest asks it for the
// validation plan of a group.
//
//   Catalog::Options options;
//   options.store = store.get();
//   ASSIGN_OR_RETURN(std::unique_ptr<Catalog> catalog, Catalog::Create(std::move(options)));
//   ASSIGN_OR_RETURN(v1::Entity entity, catalog->ApplyEntity(customer));
//   ASSIGN_OR_RETURN(v1::ApplyFeatureGroupResponse applied, catalog->ApplyFeatureGroup(request));
//   ASSIGN_OR_RETURN(std::shared_ptr<const ValidationPlan> plan, catalog->PlanFor("payments"));
//
// Definitions apply at once everywhere, with no stale cache. The catalog is the only reader and
// writer of its records, in the one feature-store process, and keeps an in-memory copy (an
// immutable CatalogState) for fast reads. An apply runs under one mutex from validation to
// publication: it validates against the current copy, commits its records in one atomic
// WriteBatch with SyncMode::kSync, and only then publishes the next copy, before returning. So a
// call that starts after an apply was acknowledged sees that apply (or a later one), an apply
// that fails changes neither the store nor the copy, and applies are totally ordered. Readers
// never wait for a write's fsync: they take a reader lock only long enough to copy one pointer.
// Create() rebuilds the copy from the store, so reopening restores everything.
//
// Schema evolution is described in schema_evolution.h. In short: adding features makes a new
// schema version; removing or retyping one is FAILED_PRECONDITION; everything else (descriptions,
// tags, owner, TTL, retention, expectations) is metadata, updated in place under the same schema
// version. Expectation changes apply to batches validated after the apply, never to rows already
// stored. Re-applying an identical definition writes nothing and changes no timestamp.
// Sensitivity is metadata too, but only ClassifyFeatures changes it; an apply keeps it
// (classification.h).
//
// Thread-safety: every method may be called from any thread at once.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/features/catalog/catalog_listing.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/catalog/row_validator.h"
#include "libs/kv/store.h"

namespace fabrique::features {

class Catalog {
 public:
  struct Options {
    // Where definitions are persisted. Required; not owned; must outlive the Catalog.
    kv::Store* store = nullptr;
    // Dates create/update times and the retention window of row validation. Not owned; must
    // outlive the Catalog. Default: nullptr = the real clock.
    core::Clock* clock = nullptr;
    // Column family holding the catalog's records; created when the store lacks it.
    // Default: "catalog".
    std::string family = "catalog";
  };

  // Opens the catalog kept in `options.store`, loading every definition. INVALID_ARGUMENT
  // without a store; DATA_LOSS when a stored record is corrupt; the store's errors otherwise.
  static absl::StatusOr<std::unique_ptr<Catalog>> Create(Options options);

  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Creates or updates an entity and returns it as stored. INVALID_ARGUMENT for a bad name or
  // join key; FAILED_PRECONDITION when the join key would change.
  absl::StatusOr<v1::Entity> ApplyEntity(const v1::Entity& entity);
  // The entity named `name`, or NOT_FOUND naming it.
  absl::StatusOr<v1::Entity> GetEntity(absl::string_view name) const;
  // Lists keep to what `visible` lets the caller see (catalog_listing.h).
  absl::StatusOr<v1::ListEntitiesResponse> ListEntities(const v1::ListEntitiesRequest& request,
                                                        SquadFilter visible = AnySquad) const;

  // Creates or updates a feature group; `caller` is recorded as updated_by. Errors, in the order
  // they are checked: INVALID_ARGUMENT (spec_validation.h), NOT_FOUND naming a missing entity,
  // ABORTED when expected_schema_version > 0 and the group is at another version (0 when it does
  // not exist), FAILED_PRECONDITION for a refused schema change (schema_evolution.h).
  // With validate_only the response is what the apply would do, and nothing is stored.
  absl::StatusOr<v1::ApplyFeatureGroupResponse> ApplyFeatureGroup(
      const v1::ApplyFeatureGroupRequest& request, const v1::Principal& caller = {});
  // The group at `schema_version` (0 = latest). NOT_FOUND naming the group, or the version and
  // the latest one; INVALID_ARGUMENT for a negative version.
  // Sets the sensitivity of a group or of one of its features (classification.h); `caller` is
  // recorded as updated_by. The latest version changes in place, durably, and reads see it at
  // once. NOT_FOUND naming the group or feature; INVALID_ARGUMENT (no reason, a bad value).
  // Classifying as already classified writes nothing.
  absl::StatusOr<v1::FeatureGroup> ClassifyFeatures(const v1::ClassifyFeaturesRequest& request,
                                                    const v1::Principal& caller = {});
  absl::StatusOr<v1::FeatureGroup> GetFeatureGroup(absl::string_view name,
                                                   int32_t schema_version = 0) const;
  absl::StatusOr<v1::ListFeatureGroupsResponse> ListFeatureGroups(
      const v1::ListFeatureGroupsRequest& request, SquadFilter visible = AnySquad) const;
  // Catalog search (see catalog_listing.h).
  absl::StatusOr<v1::ListFeaturesResponse> ListFeatures(const v1::ListFeaturesRequest& request,
                                                        SquadFilter visible = AnySquad) const;

  // For ingest: the validation plan of the group's current definition, which also carries that
  // definition (plan->group()). Cheap: no copy, no lock held after it returns. NOT_FOUND naming
  // the group.
  absl::StatusOr<std::shared_ptr<const ValidationPlan>> PlanFor(absl::string_view group) const;

  // The whole catalog as of now, for callers that need several definitions consistent with
  // each other (a training set across groups).
  std::shared_ptr<const CatalogState> Snapshot() const ABSL_LOCKS_EXCLUDED(state_mu_);

 private:
  Catalog(Options options, kv::ColumnFamily family, std::shared_ptr<const CatalogState> state);

  // Commits `key` = `record` durably, then makes `next` the state readers see.
  absl::Status CommitAndPublish(absl::string_view key, const google::protobuf::Message& record,
                                std::shared_ptr<const CatalogState> next)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);

  const Options options_;
  const kv::ColumnFamily family_;

  // Serializes applies, from the validation against the current state to its publication.
  absl::Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  // Guards only the pointer swap; held for a pointer copy by readers.
  mutable absl::Mutex state_mu_;
  std::shared_ptr<const CatalogState> state_ ABSL_GUARDED_BY(state_mu_);
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_H_
