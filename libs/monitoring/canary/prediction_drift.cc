#include "libs/monitoring/canary/prediction_drift.h"

#include "libs/core/status_macros.h"
#include "libs/monitoring/reports/drift_scoring.h"

namespace fabrique::monitoring {

// Scored as a drift report scores a column against an earlier live range (drift_scoring.h), so a
// canary's outputs read like any report's: the primary's summary is the baseline, AUTO the test.
absl::StatusOr<std::vector<v1::FeatureDrift>> PredictionDrift(const LiveSummaries& primary,
                                                              const LiveSummaries& candidate,
                                                              int64_t min_rows) {
  const std::vector<ScoreSpec> specs = {ScoreSpec{}};
  std::vector<v1::FeatureDrift> drifts;
  for (const LiveColumn& output : candidate.outputs) {
    const LiveColumn* reference = nullptr;
    for (const LiveColumn& other : primary.outputs) {
      if (other.name == output.name) reference = &other;
    }
    if (reference == nullptr) continue;
    ColumnReference against;
    against.baseline = &reference->summary;
    ASSIGN_OR_RETURN(ScoredColumn scored, ScoreColumn(output.name, against, output.summary, specs,
                                                      min_rows, /*include_profiles=*/false));
    drifts.push_back(std::move(scored.drift));
  }
  return drifts;
}

}  // namespace fabrique::monitoring
