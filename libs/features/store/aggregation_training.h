#ifndef FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_
#define FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_

// The aggregation features of a training set: for each label (entity, T), each window's value as
// of T computed from the source group's history with the window rule of the tiles (events in
// [S - k d, T]), so a training value equals what an online lookup answered at T.
//
// The point-in-time join carries aggregation features as columns of nulls (an aggregation group
// has no history); Fill replaces them in each output chunk, in header order. The whole build
// reads the source through one snapshot and one iterator, created at the first chunk and kept:
// creating an iterator sorts the append-only memtable, so one per chunk or entity costs. Each
// chunk reads each of its entities' events once, newest first (forward iteration), over the
// span that entity's labels' windows need, then answers every label of the entity from them.
//
// Not thread-safe; one per training set.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/storage/content_hash.h"
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

  // Computes the aggregation columns of `rows` (features in spec order), and hashes them.
  absl::Status Fill(v1::TrainingSetRows* rows);

  // The dataset's content hash: the join's (which saw the aggregation columns as nulls) and the
  // aggregation values of every row filled, in row order (see content_hash.h), hashed together.
  // So it changes with any aggregation value, and still not with the chunk size. Call once, last.
  std::string CombinedHash(const std::string& join_sha256);

 private:
  // The source history of one group, read through one snapshot for the whole build.
  struct SourceHistory;

  // The aggregation features asked of one group.
  struct Group {
    std::string name;
    std::string entity;
    v1::FeatureGroup source;
    std::shared_ptr<const AggregationPlan> plan;
    std::vector<std::pair<int, int>> outputs;  // (aggregation, window) of each feature.
    std::vector<int> columns;                  // Its index in the spec's features.
    std::shared_ptr<SourceHistory> history;    // Opened at the first chunk.
  };

  explicit AggregationColumns(FeatureStore& store) : store_(store) {}
  absl::Status FillGroup(Group& group, v1::TrainingSetRows* rows);

  FeatureStore& store_;
  std::vector<Group> groups_;
  ContentHasher hasher_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_
