#ifndef FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_
#define FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_

// The aggregation features of a training set: for each label (entity, T), each window's value as
// of T computed from the source group's history with the window rule of the tiles (events in
// [S - k d, T]), so a training value equals what an online lookup answered at T.
//
// The point-in-time join carries aggregation features as columns of nulls (an aggregation group
// has no history); Fill replaces them in each output chunk, in header order. The whole build
// reads the source through one snapshot and one iterator per thread, created at the first chunk
// and kept: creating an iterator sorts the append-only memtable, so one per chunk or entity
// costs. Each chunk reads each of its entities' events once, newest first (forward iteration),
// over the span that entity's labels' windows need, then answers every label of the entity from
// them. The entities are split into runs of about equal label counts, one per thread, as the
// point-in-time join splits its windows: reading history is most of the cost, and an entity is
// read by one thread only.
//
// Not thread-safe; one per training set.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/storage/content_hash.h"
#include "libs/features/store/aggregation_groups.h"
#include "libs/features/store/feature_store.h"
#include "libs/kv/snapshot.h"

namespace fabrique::features {

class AggregationColumns {
 public:
  // Null when `features` names no aggregation group of `catalog`. NOT_FOUND for an unknown
  // aggregation feature; INVALID_ARGUMENT for threads < 0. `threads`: the threads reading
  // history, 0 = the usable CPUs, at most 4 (the point-in-time join's default); fewer are used
  // when there are under 4Ki labels a thread. `store` must outlive the object.
  static absl::StatusOr<std::unique_ptr<AggregationColumns>> Create(
      FeatureStore& store, const CatalogState& catalog,
      const google::protobuf::RepeatedPtrField<v1::FeatureRef>& features, int threads = 0);

  // The threads reading history, as resolved at Create.
  int threads() const { return threads_; }

  // Announces label events about to be joined, in the order the join receives them, so that the
  // chunks that hold them are computed together: one history read per entity for all of them,
  // rather than one per chunk that holds the entity. Optional; a chunk whose rows were not all
  // announced, in order, is computed alone.
  void Expect(const v1::LabelEventBatch& events);
  // Drops the announced labels (the join refused the batch last announced).
  void ForgetExpected();

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
    // One reader per thread over one snapshot, opened at the first chunk. The snapshot is
    // declared first so that it is destroyed after the iterators that read it.
    std::shared_ptr<kv::Snapshot> snapshot;
    std::vector<std::shared_ptr<SourceHistory>> history;
    // Labels announced (Expect) from `head` on, not yet filled; pending_values[o][i] holds the
    // value of output o for label i once computed (the first pending_values[0].size() labels).
    std::vector<std::string> pending_keys;
    std::vector<int64_t> pending_times;
    std::vector<std::vector<std::optional<double>>> pending_values;
    size_t head = 0;
  };
  using Values = std::vector<std::vector<std::optional<double>>>;

  AggregationColumns(FeatureStore& store, int threads) : store_(store), threads_(threads) {}
  absl::Status FillGroup(Group& group, v1::TrainingSetRows* rows);
  // Opens the group's snapshot and its readers, once.
  absl::Status OpenHistory(Group& group);
  // Computes (*values)[o][offset + i] for labels i < n (entity key_of(i), time time_of(i)).
  absl::Status Evaluate(Group& group, size_t n, absl::FunctionRef<absl::string_view(size_t)> key_of,
                        absl::FunctionRef<int64_t(size_t)> time_of, size_t offset, Values* values);

  FeatureStore& store_;
  const int threads_;
  std::vector<Group> groups_;
  ContentHasher hasher_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_TRAINING_H_
