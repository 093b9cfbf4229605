#ifndef FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_SOURCE_H_
#define FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_SOURCE_H_

// What the monitor keeps of live traffic, as the drift reports, the canary comparison and the
// evaluation loop read it: per model version, tumbling windows of column summaries (sketches and
// counters, libs/monitoring/sketch/column_summary.h) built as records arrive and persisted, so
// no report ever re-scans raw rows. Any time range is read as the windows overlapping it,
// merged; memory is O(columns x sketch size) whatever the traffic.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/monitoring/sketch/column_summary.h"

namespace fabrique::monitoring {

// One column of live data (a model input, or an output) over the windows read.
struct LiveColumn {
  std::string name;  // Output name; for inputs, "" (inputs are known by position).
  ColumnSummary summary;
};

// The windows of one model version overlapping a time range, merged.
struct LiveSummaries {
  // The span the merged windows cover: from the first window's start to the last one's end
  // (whole windows, so it may be wider than the range asked); both equal the range's start
  // when no window had a record.
  absl::Time from;
  absl::Time to;
  int64_t predictions = 0;         // Records summarised, shadow ones included.
  int64_t shadow_predictions = 0;  // Of `predictions`: scored in shadow.
  int64_t canary_predictions = 0;  // Of `predictions`: routed by the canary share.
  absl::Time last_prediction_time = absl::InfinitePast();
  // One per model input, in signature order (PredictionRecord.inputs); a float vector input
  // pools its elements.
  std::vector<LiveColumn> inputs;
  // One per model output, in the order first seen.
  std::vector<LiveColumn> outputs;
};

// A model version that had records in a range.
struct ActiveVersion {
  std::string model;
  int64_t version = 0;
  absl::Time last_prediction_time;
};

class WindowSource {
 public:
  virtual ~WindowSource() = default;

  // The width of the tumbling windows (--window).
  virtual absl::Duration window() const = 0;

  // The windows of `model` `version` overlapping [from, to), merged. An empty LiveSummaries
  // (predictions 0) when none had a record. INVALID_ARGUMENT when from >= to.
  virtual absl::StatusOr<LiveSummaries> Summaries(absl::string_view model, int64_t version,
                                                  absl::Time from, absl::Time to) const = 0;

  // The model versions with records in windows overlapping [from, to), by model then version.
  virtual absl::StatusOr<std::vector<ActiveVersion>> ActiveVersions(absl::Time from,
                                                                    absl::Time to) const = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_WINDOWS_WINDOW_SOURCE_H_
