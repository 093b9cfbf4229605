// Tumbling windows aligned to the epoch: where a time falls, boundaries, empty windows kept in
// the series, coverage per window, and the refusals.

#include "libs/monitoring/backtest/performance_windows.h"

#include <cmath>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

// 2026-12-03 00:00:00 UTC.
const absl::Time kDay = absl::FromUnixSeconds(1'796'256'000);

absl::Time At(int hours, int minutes, int seconds = 0) {
  return kDay + absl::Hours(hours) + absl::Minutes(minutes) + absl::Seconds(seconds);
}

LabelledRow Regressed(absl::Time time, double prediction, double target) {
  LabelledRow row;
  row.time = time;
  row.scores = {prediction};
  row.label.set_double_value(target);
  return row;
}

WindowOptions AtLeastOne() {
  WindowOptions options;
  options.performance.min_labelled = 1;
  return options;
}

TEST_CASE("Window starts are aligned to the epoch, boundaries open the next window") {
  CHECK(WindowStart(At(10, 59, 59) + absl::Milliseconds(999), absl::Hours(1)) == At(10, 0));
  CHECK(WindowStart(At(11, 0), absl::Hours(1)) == At(11, 0));
  CHECK(WindowStart(At(11, 22, 30), absl::Minutes(15)) == At(11, 15));
  CHECK(WindowStart(At(11, 22, 30), absl::Hours(24)) == kDay);
  // Before the epoch, windows keep their width: -1 s is in [-1 h, 0).
  CHECK(WindowStart(absl::UnixEpoch() - absl::Seconds(1), absl::Hours(1)) ==
        absl::UnixEpoch() - absl::Hours(1));
  CHECK(WindowStart(absl::UnixEpoch(), absl::Hours(1)) == absl::UnixEpoch());
}

TEST_CASE("Performance per hour: rows and predictions by window, an empty hour kept") {
  const std::vector<LabelledRow> rows = {
      Regressed(At(10, 5), 1, 2),       // 10:00 window
      Regressed(At(10, 59, 59), 3, 3),  // 10:00 window, its last second
      Regressed(At(11, 0), 5, 8),       // the boundary: 11:00 window
      Regressed(At(13, 10), 0, 1),      // 13:00 window; 12:00 holds nothing
  };
  std::vector<absl::Time> predicted;
  for (const LabelledRow& row : rows) predicted.push_back(row.time);
  predicted.push_back(At(10, 30));  // unlabelled predictions
  predicted.push_back(At(11, 30));
  predicted.push_back(At(11, 45));

  absl::StatusOr<std::vector<WindowPerformance>> series =
      PerformanceByWindow(v1::TASK_REGRESSION, rows, predicted, {}, AtLeastOne());
  REQUIRE(series.ok());
  REQUIRE(series->size() == 4);
  const std::vector<absl::Time> starts = {At(10, 0), At(11, 0), At(12, 0), At(13, 0)};
  const std::vector<int64_t> predictions = {3, 3, 0, 1}, joined = {2, 1, 0, 1};
  for (size_t i = 0; i < 4; ++i) {
    const WindowPerformance& window = (*series)[i];
    CHECK(window.start == starts[i]);
    CHECK(window.end == starts[i] + absl::Hours(1));
    CHECK(window.predicted_count == predictions[i]);
    CHECK(window.joined_count == joined[i]);
  }
  CHECK((*series)[0].label_coverage == Approx(2.0 / 3));
  CHECK((*series)[1].label_coverage == Approx(1.0 / 3));
  CHECK((*series)[2].label_coverage == 0);
  CHECK_FALSE((*series)[2].enough_data);
  CHECK((*series)[2].reason == "not enough data: 0 labelled predictions, 1 needed");
  CHECK((*series)[3].label_coverage == 1);
  // 10:00: errors 1 and 0; 11:00: error 3.
  CHECK((*series)[0].metrics[0].name == "rmse");
  CHECK((*series)[0].metrics[0].live == Approx(std::sqrt(0.5)));
  CHECK((*series)[1].metrics[0].live == Approx(3));
  CHECK((*series)[3].metrics[0].live == Approx(1));
}

TEST_CASE("Windows of another width, and nothing to window") {
  WindowOptions options = AtLeastOne();
  options.width = absl::Minutes(30);
  const std::vector<LabelledRow> rows = {Regressed(At(10, 29, 59), 1, 1),
                                         Regressed(At(10, 30), 1, 1)};
  const std::vector<absl::Time> predicted = {At(10, 29, 59), At(10, 30)};
  absl::StatusOr<std::vector<WindowPerformance>> series =
      PerformanceByWindow(v1::TASK_REGRESSION, rows, predicted, {}, options);
  REQUIRE(series.ok());
  REQUIRE(series->size() == 2);
  CHECK((*series)[0].start == At(10, 0));
  CHECK((*series)[1].start == At(10, 30));
  series = PerformanceByWindow(v1::TASK_REGRESSION, {}, {}, {}, options);
  REQUIRE(series.ok());
  CHECK(series->empty());
}

TEST_CASE("Window refusals: width, span, infinite times, rows beyond predictions") {
  const std::vector<LabelledRow> rows = {Regressed(At(10, 0), 1, 1)};
  const std::vector<absl::Time> predicted = {At(10, 0)};
  WindowOptions options = AtLeastOne();
  options.width = absl::ZeroDuration();
  CHECK(PerformanceByWindow(v1::TASK_REGRESSION, rows, predicted, {}, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  options = AtLeastOne();
  options.max_windows = 24;
  const std::vector<absl::Time> day = {At(0, 0), At(23, 59)};
  CHECK(PerformanceByWindow(v1::TASK_REGRESSION, {}, day, {}, options).ok());
  const std::vector<absl::Time> longer = {At(0, 0), At(24, 0)};
  CHECK(PerformanceByWindow(v1::TASK_REGRESSION, {}, longer, {}, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const std::vector<absl::Time> infinite = {absl::InfiniteFuture()};
  CHECK(PerformanceByWindow(v1::TASK_REGRESSION, {}, infinite, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // A row whose prediction was not counted in its window.
  const absl::Status beyond =
      PerformanceByWindow(v1::TASK_REGRESSION, rows, {}, {}, AtLeastOne()).status();
  CHECK(beyond.code() == absl::StatusCode::kInvalidArgument);
  CHECK(beyond.message() ==
        "window starting 2026-12-03T10:00:00+00:00: 1 joined outcomes for only 0 predictions");
}

}  // namespace
}  // namespace fabrique::monitoring
