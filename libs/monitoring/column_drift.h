#ifndef FABRIQUE_LIBS_MONITORING_COLUMN_DRIFT_H_
#define FABRIQUE_LIBS_MONITORING_COLUMN_DRIFT_H_

// The drift verdict for one column (reference window against current window) and for a whole
// dataset (the share of its columns that drifted). A window with too few non-missing values
// gives no verdict: "not enough data" is a result of its own, never a silent "no drift".

#include <cstdint>
#include <limits>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "libs/monitoring/drift_statistics.h"
#include "libs/monitoring/drift_test_selection.h"

namespace fabrique::monitoring {

struct DriftOptions {
  // The test to run; kAuto picks Evidently's default for the column (drift_test_selection.h).
  DriftTestKind test = DriftTestKind::kAuto;
  // The threshold the result is compared with; unset: the test's default (0.05 for p-values,
  // 0.1 for distances and PSI).
  std::optional<double> threshold;
  // Non-missing values each window needs for a verdict. Default 30. Must be at least 1.
  int64_t min_rows = 30;
};

// One window of a categorical column: its category counts and how many values were missing.
struct CategoricalColumn {
  CategoryCountMap counts;
  int64_t missing = 0;
};

struct DriftResult {
  DriftTestKind test = DriftTestKind::kAuto;  // the test that ran (never kAuto)
  ColumnKind column_kind = ColumnKind::kNumeric;
  // KS D, normalised Wasserstein distance, PSI, Jensen–Shannon distance, chi-square or z; NaN
  // when there was not enough data.
  double statistic = std::numeric_limits<double>::quiet_NaN();
  std::optional<double> p_value;  // set for KS, chi-square and Z when there was enough data
  DriftThreshold threshold;
  int64_t reference_rows = 0;  // non-missing values
  int64_t current_rows = 0;
  int64_t reference_missing = 0;
  int64_t current_missing = 0;
  bool enough_data = false;
  bool drifted = false;  // false whenever enough_data is false
  // Bound on |statistic - the statistic on exact data| when computed from sketches
  // (summary_drift.h); 0 on exact data.
  double error_bound = 0;
};

// Evaluates drift of a numeric column. NaN and ±inf are missing. A numeric column with at most
// 5 distinct values is tested as categories (its values), as Evidently does. Returns
// INVALID_ARGUMENT for min_rows < 1, and for the Z-test on more than two distinct values.
absl::StatusOr<DriftResult> EvaluateColumn(absl::Span<const double> reference,
                                           absl::Span<const double> current,
                                           const DriftOptions& options = {});

// Evaluates drift of a categorical column. Returns INVALID_ARGUMENT for min_rows < 1, negative
// counts, KS or Wasserstein (they need numbers), and the Z-test on more than two categories.
absl::StatusOr<DriftResult> EvaluateColumn(const CategoricalColumn& reference,
                                           const CategoricalColumn& current,
                                           const DriftOptions& options = {});

// The parts of a result known before any statistic, as both EvaluateColumn and the drift of
// summaries (summary_drift.h) set them: sizes, the test (options.test, or AUTO's choice for
// this kind of column and reference size), its threshold, and whether both windows have
// min_rows values. Returns INVALID_ARGUMENT for min_rows < 1.
absl::StatusOr<DriftResult> PrepareDriftResult(int64_t reference_rows, int64_t current_rows,
                                               int64_t distinct_values, bool numeric,
                                               const DriftOptions& options);

struct DatasetDriftResult {
  int64_t columns = 0;
  int64_t evaluated_columns = 0;  // columns with enough data for a verdict
  int64_t drifted_columns = 0;
  double drifted_share = 0;  // drifted / evaluated; 0 when none was evaluated
  double share_threshold = 0.5;
  bool drifted = false;  // drifted_share >= share_threshold, with at least one column evaluated
};

// Dataset drift as Evidently defines it: the share of drifted columns at or above the
// threshold (default 0.5). Columns without enough data count in neither the drifted columns
// nor the share's denominator.
DatasetDriftResult DatasetDrift(absl::Span<const DriftResult> results,
                                double share_threshold = 0.5);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_COLUMN_DRIFT_H_
