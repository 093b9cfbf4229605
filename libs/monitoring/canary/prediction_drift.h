#ifndef FABRIQUE_LIBS_MONITORING_CANARY_PREDICTION_DRIFT_H_
#define FABRIQUE_LIBS_MONITORING_CANARY_PREDICTION_DRIFT_H_

// The candidate's outputs tested against the primary's over the same windows: for each output
// both versions gave (by name), the primary's live summary is the reference and the candidate's
// the current data, with Evidently's choice of test (AUTO) and threshold, read from the sketches
// (summary_drift.h, with its error bound). A canary whose outputs drift from the primary's is
// not necessarily worse (that is what the metrics say), but it scores differently: people want
// to see it before promoting.

#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring {

// One FeatureDrift per output present on both sides, in the candidate's order; an output of one
// side only is left out. `min_rows` is the values each side needs for a verdict (fewer: status
// NOT_ENOUGH_DATA). An output whose kinds differ between the sides cannot be tested: it is
// NO_REFERENCE, as in drift reports.
absl::StatusOr<std::vector<v1::FeatureDrift>> PredictionDrift(const LiveSummaries& primary,
                                                              const LiveSummaries& candidate,
                                                              int64_t min_rows = 30);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_CANARY_PREDICTION_DRIFT_H_
