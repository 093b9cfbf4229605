// The monitor's drift verdict for a column (libs/monitoring/column_drift.h) fills a report
// feature field by field: the report keeps plain values of its own, with the same meanings.

#include <vector>

#include "catch2/catch.hpp"
#include "libs/monitoring/column_drift.h"
#include "libs/monitoring/report/html_report.h"
#include "libs/monitoring/report/render_parts.h"
#include "libs/monitoring/report/report_format.h"

namespace fabrique::monitoring::report {
namespace {

FeatureReport FromDrift(std::string name, const DriftResult& result) {
  FeatureReport f;
  f.name = std::move(name);
  f.kind = result.column_kind == ColumnKind::kNumeric       ? FeatureKind::kNumeric
           : result.column_kind == ColumnKind::kCategorical ? FeatureKind::kCategorical
                                                            : FeatureKind::kBinary;
  f.test = std::string(DriftTestName(result.test));
  f.statistic = result.statistic;
  f.p_value = result.p_value;
  f.threshold = result.threshold.value;
  f.drift_when = result.threshold.drift_when == monitoring::DriftWhen::kPValueBelow
                     ? DriftWhen::kPValueBelow
                     : DriftWhen::kStatisticAtLeast;
  f.drifted = result.drifted;
  f.enough_data = result.enough_data;
  f.reference_missing_rate = static_cast<double>(result.reference_missing) /
                             (result.reference_rows + result.reference_missing);
  f.current_missing_rate =
      static_cast<double>(result.current_missing) / (result.current_rows + result.current_missing);
  return f;
}

// `n` values spread evenly over [low, high].
std::vector<double> Evenly(int n, double low, double high) {
  std::vector<double> values(n);
  for (int i = 0; i < n; ++i) values[i] = low + (high - low) * i / (n - 1);
  return values;
}

TEST_CASE("A drift verdict maps onto a report feature and reads the same in words") {
  const absl::StatusOr<DriftResult> shifted =
      EvaluateColumn(Evenly(500, 0, 1), Evenly(400, 0.5, 1.5));
  REQUIRE(shifted.ok());
  REQUIRE(shifted->drifted);
  const FeatureReport amount = FromDrift("amount", *shifted);
  CHECK(amount.test == "ks");
  CHECK(amount.drift_when == DriftWhen::kPValueBelow);
  CHECK(amount.threshold == 0.05);
  CHECK(DriftSeverity(amount) >= 1);
  CHECK(DriftEvidence(amount).rfind("KS p = ", 0) == 0);

  const absl::StatusOr<DriftResult> same = EvaluateColumn(Evenly(2000, 0, 1), Evenly(1500, 0, 1));
  REQUIRE(same.ok());
  const FeatureReport age = FromDrift("age", *same);
  CHECK(age.test == "wasserstein");
  CHECK(age.drift_when == DriftWhen::kStatisticAtLeast);
  CHECK(!age.p_value.has_value());
  CHECK(DriftSeverity(age) < 1);

  const absl::StatusOr<DriftResult> few = EvaluateColumn(Evenly(500, 0, 1), Evenly(10, 0, 1));
  REQUIRE(few.ok());
  const FeatureReport income = FromDrift("income", *few);
  CHECK(!income.enough_data);

  ReportModel model;
  model.model = "credit-default";
  model.period_to = model.period_from + absl::Hours(24);
  model.health = Health::kDrifting;
  model.features = {age, income, amount};
  CHECK(SummaryHeadline(model).rfind("Drifting: 1 of 3 features, most of all \xE2\x80\x9C"
                                     "amount\xE2\x80\x9D (KS p = ",
                                     0) == 0);
  const std::string page = RenderHtmlReport(model);
  CHECK(page.find(">amount<") < page.find(">age<"));
  CHECK(page.find(">age<") < page.find(">income<"));
}

}  // namespace
}  // namespace fabrique::monitoring::report
