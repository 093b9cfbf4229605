#ifndef FABRIQUE_LIBS_MONITORING_SUMMARY_DRIFT_H_
#define FABRIQUE_LIBS_MONITORING_SUMMARY_DRIFT_H_

// Drift verdicts computed from what the monitor keeps instead of raw rows: a reference profile's
// column (its quantile sketch, or before sketches its bins) or a summary of earlier live
// windows, against a summary of the current windows. Numeric statistics are read from the
// sketches and carry a bound on their distance from the exact statistic (DriftResult::
// error_bound); categorical ones are exact, since category counts are exact. Test choice and
// thresholds are column_drift.h's.

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/column_drift.h"
#include "libs/monitoring/sketch/column_summary.h"

namespace fabrique::monitoring {

// Drift of `current` against `reference`, two summaries of one column. INVALID_ARGUMENT when
// their kinds differ, and as column_drift.h's EvaluateColumn for the options.
absl::StatusOr<DriftResult> EvaluateSummaries(const ColumnSummary& reference,
                                              const ColumnSummary& current,
                                              const DriftOptions& options = {});

// Drift of `current` against a reference profile's column, read as ReferenceCdf reads it (the
// sketch, or the bins of profiles made before sketches, with their coarser error bound).
// INVALID_ARGUMENT for a corrupt profile or kinds that differ.
absl::StatusOr<DriftResult> EvaluateSummaries(const v1::DistributionProfile& reference,
                                              const ColumnSummary& current,
                                              const DriftOptions& options = {});

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SUMMARY_DRIFT_H_
