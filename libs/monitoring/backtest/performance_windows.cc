#include "libs/monitoring/backtest/performance_windows.h"

#include <algorithm>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::monitoring {
namespace {

// What falls in one window.
struct WindowContent {
  std::vector<LabelledRow> rows;
  int64_t predicted = 0;
};

// The window number of `time`: floor((time - epoch) / width), so times before the epoch fall in
// negative windows of the same width rather than a double-width window around zero.
int64_t WindowIndex(absl::Time time, absl::Duration width) {
  absl::Duration remainder;
  int64_t index = absl::IDivDuration(time - absl::UnixEpoch(), width, &remainder);
  if (remainder < absl::ZeroDuration()) --index;
  return index;
}

absl::Status CheckFinite(absl::Time time) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("a prediction time is infinite");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Time WindowStart(absl::Time time, absl::Duration width) {
  return absl::UnixEpoch() + WindowIndex(time, width) * width;
}

absl::StatusOr<std::vector<WindowPerformance>> PerformanceByWindow(
    v1::Task task, absl::Span<const LabelledRow> rows,
    absl::Span<const absl::Time> prediction_times, absl::Span<const v1::Metric> training_metrics,
    const WindowOptions& options) {
  if (options.width <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("the window width must be positive, not ",
                                                   absl::FormatDuration(options.width)));
  }
  absl::btree_map<int64_t, WindowContent> windows;
  for (const absl::Time time : prediction_times) {
    RETURN_IF_ERROR(CheckFinite(time));
    ++windows[WindowIndex(time, options.width)].predicted;
  }
  for (const LabelledRow& row : rows) {
    RETURN_IF_ERROR(CheckFinite(row.time));
    windows[WindowIndex(row.time, options.width)].rows.push_back(row);
  }
  std::vector<WindowPerformance> series;
  if (windows.empty()) return series;
  const int64_t first = windows.begin()->first;
  const int64_t last = windows.rbegin()->first;
  // Compared as last - first >= max_windows, which cannot overflow where the count would.
  if (static_cast<uint64_t>(last) - static_cast<uint64_t>(first) >=
      static_cast<uint64_t>(std::max<int64_t>(options.max_windows, 0))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the predictions span more than ", options.max_windows, " windows of ",
        absl::FormatDuration(options.width), ": ask for a shorter span or wider windows"));
  }
  for (int64_t index = first; index <= last; ++index) {
    const auto found = windows.find(index);
    const WindowContent empty;
    const WindowContent& content = found == windows.end() ? empty : found->second;
    absl::StatusOr<WindowPerformance> performance = ComputePerformance(
        task, content.rows, content.predicted, training_metrics, options.performance);
    const absl::Time start = absl::UnixEpoch() + index * options.width;
    if (!performance.ok()) {
      return absl::Status(
          performance.status().code(),
          absl::StrCat("window starting ", absl::FormatTime(start, absl::UTCTimeZone()), ": ",
                       performance.status().message()));
    }
    performance->start = start;
    performance->end = start + options.width;
    series.push_back(*std::move(performance));
  }
  return series;
}

}  // namespace fabrique::monitoring
