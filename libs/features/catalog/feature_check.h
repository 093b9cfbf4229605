#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_FEATURE_CHECK_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_FEATURE_CHECK_H_

// The expectations of one feature, compiled for the ingest hot path, and the tight per-column
// loops that apply them. A FeatureCheck is built once per definition of a group (see
// ValidationPlan): bounds become plain doubles (unset = +/- infinity, so no branch asks whether a
// bound exists), allowed values become hash sets, and a feature with nothing to check is marked
// so that its column is skipped entirely. The loops read packed arrays straight from the proto
// and allocate nothing.
//
// Comparisons follow IEEE rules: NaN is rejected only by `finite` (it is neither below a min nor
// above a max), infinities are compared to the bounds like any value, and int64 values are
// compared to the bounds as doubles (exact up to 2^53).

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

struct FeatureCheck {
  // Compiles `spec`, which must have passed ValidateFeatureGroupSpec.
  static FeatureCheck FromSpec(const v1::FeatureSpec& spec);

  std::string name;
  v1::FeatureType type = v1::FEATURE_TYPE_UNSPECIFIED;
  bool not_null = false;
  bool finite = false;
  double min = 0;  // -infinity when unset.
  double max = 0;  // +infinity when unset.
  bool has_bounds = false;
  size_t max_string_length = 0;  // 0 = no limit.
  int32_t vector_length = 0;     // 0 = any length.
  bool has_allowed = false;
  absl::flat_hash_set<std::string> allowed_strings;
  absl::flat_hash_set<int64_t> allowed_int64s;
  bool allow_true = true;
  bool allow_false = true;
  // False when no non-null value can fail: the column's values need not be read.
  bool checks_values = false;
};

// Where the column loops record problems: the first reason per row wins, so that a row reports
// the first problem in check order and rows already rejected are left alone.
struct RowMarks {
  uint8_t* reasons;   // One v1::RejectReason per row; 0 (UNSPECIFIED) = good so far.
  int32_t* features;  // Index of the feature at fault per row; -1 for row-level reasons.

  void Mark(int64_t row, v1::RejectReason reason, int32_t feature) const {
    if (reasons[row] != 0) return;
    reasons[row] = static_cast<uint8_t>(reason);
    features[row] = feature;
  }
};

// Checks every row of `column` (whose type and length the caller has verified) against `check`,
// marking bad rows with `feature` (the feature's index in the group).
void CheckColumn(const FeatureCheck& check, const v1::ValueColumn& column, int32_t feature,
                 RowMarks marks);

// A message for a reject found by CheckColumn, e.g. "amount = -3 < min 0". `column` null means
// the feature was absent from the batch (every row null). Only called for the few rejects that
// are described, never on the hot path.
std::string DescribeProblem(const FeatureCheck& check, const v1::ValueColumn* column, int64_t row,
                            v1::RejectReason reason);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_FEATURE_CHECK_H_
