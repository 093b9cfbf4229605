#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_DRIFT_SCORING_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_DRIFT_SCORING_H_

// One column of a drift report: the tests a policy names for it, run on the column's summaries
// (summary_drift.h), turned into the report's FeatureDrift with its scores, verdict, severity,
// missing rates and out-of-range count.
//
// Which tests a column gets: the metrics asked for (each with the thresholds of the policy's
// entry for that metric, when one applies to the column), else the policy's entries that apply
// to it (an entry without features applies to every input; outputs only with
// include_predictions), else AUTO. A metric that does not fit the column's type (KS or
// Wasserstein on categories, the Z-test on more than two values) is left out for that column
// rather than failing the report; a column that no named metric fits gets AUTO, flagged
// auto_selected. Severity: a score that drifts is WARNING, CRITICAL past the critical threshold
// (p-value tests below it, the others at or above it); a score without enough data is INFO.
// Live values of another type than the reference's (strings where it had numbers) cannot be
// tested: the column is NO_REFERENCE at WARNING, every live value counted out of range.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/column_drift.h"
#include "libs/monitoring/sketch/column_summary.h"

namespace fabrique::monitoring {

// A test to run on a column, with its policy thresholds (0 = off).
struct ScoreSpec {
  v1::DriftMetric metric = v1::DRIFT_METRIC_AUTO;
  double warning_threshold = 0;
  double critical_threshold = 0;
};

// The tests for column `name` (an input unless `output`), as the header says.
std::vector<ScoreSpec> SpecsFor(const std::string& name, bool output,
                                const v1::MonitoringPolicy& policy,
                                const std::vector<v1::DriftMetric>& asked);

// What one column is compared with: a reference profile's column or an earlier live summary.
// Neither set: the column has no reference.
struct ColumnReference {
  const v1::DistributionProfile* profile = nullptr;
  const ColumnSummary* baseline = nullptr;
};

struct ScoredColumn {
  v1::FeatureDrift drift;
  // The first score's result, for dataset drift; unset without a reference.
  std::optional<DriftResult> verdict;
};

// Scores `current`, the live summary of column `name`, against `reference`. `min_rows` is the
// values each side needs for a verdict. INVALID_ARGUMENT for a reference that cannot be read.
absl::StatusOr<ScoredColumn> ScoreColumn(const std::string& name, const ColumnReference& reference,
                                         const ColumnSummary& current,
                                         const std::vector<ScoreSpec>& specs, int64_t min_rows,
                                         bool include_profiles);

// Live values outside the reference: numbers outside the profile's [min, max], read from the
// live sketch's CDF (so within its rank error); categories the profile does not list, exact
// (0 when the profile's list is truncated).
int64_t OutOfRangeCount(const v1::DistributionProfile& reference, const ColumnSummary& current);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_DRIFT_SCORING_H_
