#ifndef FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_
#define FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_

// The aggregation features of a training set: for each label (entity, T), each window's value as
// of T computed from the source group's history with the window rule of the tiles (events in
// [S - k d, T]), so a training value equals what an online lookup answered at T.
//
// The point-in-time join carries aggregation features as columns of nulls (an aggregation group
// has no history); Fill replaces them in each output chunk, in header order. Each chunk reads
// the history of each of its entities once, over the span its labels' windows need.
//
// Not thread-safe; one per training set.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/store/aggregation_groups.h"
#include "libs/features/store/feature_store.h"

namespace fabrique::features {

class AggregationColumns {
 public:
  // Null when `features` names no aggregation group of `catalog`. NOT_FOUND for an unknown
  // aggregation feature. `store` must outlive the object.
  static absl::StatusOr<std::unique_ptr<AggregationColumns>> Create(
      FeatureStore& store, const CatalogState& catalog,
      const google::protobuf::RepeatedPtrField<v1::FeatureRef>& features);

  // Computes the aggregation columns of `rows` (features in spec order).
  absl::Status Fill(v1::TrainingSetRows* rows) const;

 private:
  // The aggregation features asked of one group.
  struct Group {
    std::string name;
    std::string entity;
    v1::FeatureGroup source;
    std::shared_ptr<const AggregationPlan> plan;
    std::vector<std::pair<int, int>> outputs;  // (aggregation, window) of each feature.
    std::vector<int> columns;                  // Its index in the spec's features.
  };

  explicit AggregationColumns(FeatureStore& store) : store_(store) {}
  absl::Status FillGroup(const Group& group, v1::TrainingSetRows* rows) const;

  FeatureStore& store_;
  std::vector<Group> groups_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_
