#ifndef FABRIQUE_TESTS_MONITORING_WINDOWS_WINDOW_TEST_UTIL_H_
#define FABRIQUE_TESTS_MONITORING_WINDOWS_WINDOW_TEST_UTIL_H_

// Helpers of the live-window tests: records with inputs and outputs, and the comparison of two
// summaries (exact while sketches are in exact mode).

#include <cmath>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/sketch/column_summary.h"
#include "libs/monitoring/windows/window_source.h"
#include "tests/monitoring/intake/intake_test_util.h"

namespace fabrique::monitoring::testing {

// A record of `model` `version` with inputs (a number, a category) and a one-element output.
inline v1::PredictionRecord Scored(const std::string& id, const std::string& model, int64_t version,
                                   absl::Time time, double number, const std::string& category,
                                   float probability) {
  v1::PredictionRecord record = Prediction(id, model, version, time);
  record.clear_predicted_label();
  *record.add_inputs() = Double(number);
  *record.add_inputs() = String(category);
  v1::ModelOutput* output = record.add_outputs();
  output->set_name("probability");
  output->add_values(probability);
  return record;
}

inline void RequireSameColumn(const ColumnSummary& a, const ColumnSummary& b) {
  REQUIRE(a.kind() == b.kind());
  CHECK(a.count() == b.count());
  CHECK(a.missing_count() == b.missing_count());
  CHECK(a.number_count() == b.number_count());
  CHECK(std::abs(a.mean() - b.mean()) <= 1e-9 * (1 + std::abs(a.mean())));
  CHECK(std::abs(a.stddev() - b.stddev()) <= 1e-6 * (1 + std::abs(a.stddev())));
  CHECK(a.categories().Sorted() == b.categories().Sorted());
  REQUIRE((a.sketch() == nullptr) == (b.sketch() == nullptr));
  if (a.sketch() == nullptr) return;
  const auto va = a.sketch()->SortedView();
  const auto vb = b.sketch()->SortedView();
  REQUIRE(va.size() == vb.size());
  for (size_t i = 0; i < va.size(); ++i) {
    CHECK(va[i].value == vb[i].value);
    CHECK(va[i].weight == vb[i].weight);
  }
}

inline void RequireSameSummaries(const LiveSummaries& a, const LiveSummaries& b) {
  CHECK(a.from == b.from);
  CHECK(a.to == b.to);
  CHECK(a.predictions == b.predictions);
  CHECK(a.shadow_predictions == b.shadow_predictions);
  CHECK(a.canary_predictions == b.canary_predictions);
  CHECK(a.last_prediction_time == b.last_prediction_time);
  REQUIRE(a.inputs.size() == b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    RequireSameColumn(a.inputs[i].summary, b.inputs[i].summary);
  }
  REQUIRE(a.outputs.size() == b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    CHECK(a.outputs[i].name == b.outputs[i].name);
    RequireSameColumn(a.outputs[i].summary, b.outputs[i].summary);
  }
}

}  // namespace fabrique::monitoring::testing

#endif  // FABRIQUE_TESTS_MONITORING_WINDOWS_WINDOW_TEST_UTIL_H_
