#ifndef FABRIQUE_LIBS_FEATURES_STORE_TRAINING_SET_BUILD_H_
#define FABRIQUE_LIBS_FEATURES_STORE_TRAINING_SET_BUILD_H_

// One point-in-time training set being built: the spec's features joined to label events that
// arrive in batches (inline) or are read from a group's history (a label feature), streamed out
// in chunks, and recorded as a dataset for lineage when done.
//
//   ASSIGN_OR_RETURN(auto build, TrainingSetBuild::Start(store, spec, caller, on_output));
//   for (batch : inline label batches) RETURN_IF_ERROR(build->AddEvents(batch));
//   ASSIGN_OR_RETURN(v1::Dataset dataset, build->Finish());   // reads the label group first
//
// `on_output` receives, in order: the header (once, before any rows), row chunks (unless
// summary_only), and nothing else; Finish returns the dataset the caller sends last.

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/storage/point_in_time_join.h"
#include "libs/features/store/aggregation_training.h"
#include "libs/features/store/feature_store.h"

namespace fabrique::features {

class TrainingSetBuild {
 public:
  using Output = std::function<absl::Status(v1::BuildTrainingSetResponse*)>;

  // Validates the spec (at least one feature; labels inline or from a group's feature; every
  // group and feature known: NOT_FOUND naming it) and reads one catalog snapshot for the whole
  // build, in which every group read (the label's too) is passed to `may_read` with the
  // personal features the spec reads of it; its refusal is returned as is. `store` must outlive
  // the build.
  static absl::StatusOr<std::unique_ptr<TrainingSetBuild>> Start(
      FeatureStore& store, const v1::TrainingSetSpec& spec, const v1::Principal& caller,
      Output on_output, FeatureStore::GroupAccess may_read = FeatureStore::AnyGroup);

  // The id of the dataset being built (announced in the header, recorded by Finish).
  const std::string& dataset_id() const { return dataset_id_; }

  // Joins inline label events; those outside the spec's time range are skipped.
  // FAILED_PRECONDITION when the spec takes its labels from a group.
  absl::Status AddEvents(const v1::LabelEventBatch& events);

  // Reads the label group (if the spec names one), flushes the join, records the dataset and
  // returns it. FAILED_PRECONDITION (naming the time range) when no label event was joined.
  absl::StatusOr<v1::Dataset> Finish();

 private:
  TrainingSetBuild(FeatureStore& store, v1::TrainingSetSpec spec, v1::Principal caller,
                   Output on_output)
      : store_(store),
        spec_(std::move(spec)),
        caller_(std::move(caller)),
        on_output_(std::move(on_output)) {}

  absl::Status Init(FeatureStore::GroupAccess may_read);
  // Passes every group the spec reads to `may_read`, with its personal features.
  absl::Status CheckGroups(const CatalogState& catalog, FeatureStore::GroupAccess may_read) const;
  // Sends the header if it has not gone yet.
  absl::Status SendHeader();
  absl::Status OnChunk(v1::TrainingSetRows* rows);
  // Feeds the label group's history in the time range to the join.
  absl::Status AddLabelsFromGroup();
  // The events of `events` inside the spec's time range (all of them when it has no bounds).
  v1::LabelEventBatch InRange(const v1::LabelEventBatch& events) const;

  FeatureStore& store_;
  const v1::TrainingSetSpec spec_;
  const v1::Principal caller_;
  Output on_output_;
  std::string dataset_id_;
  std::unique_ptr<PointInTimeJoin> join_;
  // The aggregation features, computed into each chunk; null when the spec names none.
  std::unique_ptr<AggregationColumns> aggregation_columns_;
  bool header_sent_ = false;
  int64_t start_micros_ = 0;
  int64_t end_micros_ = 0;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_TRAINING_SET_BUILD_H_
