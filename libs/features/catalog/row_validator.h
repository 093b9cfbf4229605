#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_ROW_VALIDATOR_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_ROW_VALIDATOR_H_

// Ingest-time validation of rows against a feature group's schema and expectations.
//
// A ValidationPlan is compiled once per definition of a group (the catalog builds it when a
// group is applied or loaded, and hands it out with the definition) and then checks every batch
// ingested into the group:
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const ValidationPlan> plan, catalog->PlanFor(group));
//   ASSIGN_OR_RETURN(ValidationResult result, plan->Validate(request.rows()));
//   for (int64_t row = 0; row < result.row_count; ++row) if (result.good(row)) Store(row);
//
// Problems with the batch as a whole fail the call and nothing in it is usable:
//   INVALID_ARGUMENT  entity_keys and event_time_unix_micros of different lengths; a column of
//                     another group, named twice, of the wrong type (naming the feature, both
//                     types and the row count), or with a length (or is_null length) other
//                     than the row count
//   NOT_FOUND         a column names a feature the group does not have (naming it)
// Problems with single rows are rejects: the row is marked bad with the reason of its first
// problem, in this order: an empty entity key, an event time before the retention window, then
// the columns in batch order (within a value: null, not finite / vector length, below min, above
// max, string too long, not allowed), then not_null features absent from the batch.
//
// The hot path reads the proto's packed arrays in place, one tight loop per column, with no
// per-value allocation and no lookup by name per value (names are resolved once per column).
// Only the rejects that are described (ValidateOptions::max_reject_details) build strings.
//
// Expectations are those of the definition the plan was built from: a change of expectations
// applies to batches validated after it, never to rows already stored.
//
// Thread-safety: a plan is immutable; Validate may be called from any thread at once.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/features/catalog/derived_features.h"
#include "libs/features/catalog/feature_check.h"

namespace fabrique::features {

struct ValidateOptions {
  // Rejected rows described in ValidationResult::rejects, lowest row index first; the rest are
  // only counted. Default: 1000 (what an ingest reply carries per batch).
  int64_t max_reject_details = 1000;
};

// The outcome of validating one batch whose shape was right.
struct ValidationResult {
  int32_t schema_version = 0;  // Of the definition the batch was checked against.
  int64_t row_count = 0;
  int64_t rejected_rows = 0;
  // One entry per row: REJECT_REASON_UNSPECIFIED (0) for a good row, else the v1::RejectReason
  // of its first problem. It is the "good rows" mask: see good().
  std::vector<uint8_t> row_reasons;
  // The first rejected rows (ValidateOptions::max_reject_details of them), in row order.
  std::vector<v1::RowReject> rejects;
  // Rejected rows counted by reason, indexed by v1::RejectReason; they add up to rejected_rows.
  std::array<int64_t, v1::RejectReason_ARRAYSIZE> reject_counts = {};
  // For each column of the batch, the index of its feature in the group's spec, so that storage
  // need not look names up again.
  std::vector<int32_t> column_features;

  bool good(int64_t row) const { return row_reasons[row] == 0; }
  int64_t good_rows() const { return row_count - rejected_rows; }
};

class ValidationPlan {
 public:
  // Compiles the checks of `group` (its spec must have passed ValidateFeatureGroupSpec).
  // `clock` (not owned, must outlive the plan; nullptr = the real clock) dates the retention
  // window of each Validate call.
  static absl::StatusOr<std::shared_ptr<const ValidationPlan>> Build(
      std::shared_ptr<const v1::FeatureGroup> group, const core::Clock* clock);

  // Validates `batch` (see the file comment for what fails the call and what rejects a row).
  absl::StatusOr<ValidationResult> Validate(const v1::RowBatch& batch,
                                            const ValidateOptions& options = {}) const;

  // The definition the plan was built from.
  const v1::FeatureGroup& group() const { return *group_; }
  const std::shared_ptr<const v1::FeatureGroup>& shared_group() const { return group_; }
  int32_t schema_version() const { return group_->schema_version(); }
  // The index of the feature named `name` in the group's spec, or -1.
  int32_t FeatureIndex(absl::string_view name) const;
  // The group's derived features, compiled, in spec order: ingest computes them into the batch
  // before validating it.
  const std::vector<DerivedFeature>& derived() const { return derived_; }

 private:
  ValidationPlan(std::shared_ptr<const v1::FeatureGroup> group, const core::Clock* clock);

  // Resolves each column to its feature and checks its type and lengths.
  absl::StatusOr<std::vector<int32_t>> ResolveColumns(const v1::RowBatch& batch,
                                                      int64_t rows) const;
  // The earliest event time inside the retention window now; INT64_MIN when there is none.
  int64_t RetentionCutoff() const;
  // Marks empty entity keys and event times before `cutoff`.
  void CheckRows(const v1::RowBatch& batch, int64_t cutoff, RowMarks marks) const;
  // What Validate knows about one batch once every check has run.
  struct Marked {
    const v1::RowBatch* batch;
    int64_t cutoff;
    std::vector<int32_t> reject_features;                 // Per row; see RowMarks.
    std::vector<const v1::ValueColumn*> feature_columns;  // Per feature; null when absent.
  };
  // Fills rejected_rows, reject_counts and the described rejects from the marks.
  void Summarize(const Marked& marked, const ValidateOptions& options,
                 ValidationResult& result) const;
  v1::RowReject DescribeReject(const Marked& marked, int64_t row, v1::RejectReason reason) const;

  std::shared_ptr<const v1::FeatureGroup> group_;
  const core::Clock* clock_;
  std::vector<FeatureCheck> checks_;  // One per feature, in spec order.
  absl::flat_hash_map<std::string, int32_t> index_by_name_;
  std::vector<int32_t> not_null_features_;
  int64_t retention_micros_ = 0;  // 0 = keep forever, no window.
  std::vector<DerivedFeature> derived_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_ROW_VALIDATOR_H_
