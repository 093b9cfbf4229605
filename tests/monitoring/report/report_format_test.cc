// How the report writes numbers, times, tests and ranks, and how it escapes text.

#include "libs/monitoring/report/report_format.h"

#include <cmath>

#include "catch2/catch.hpp"
#include "libs/monitoring/report/html_escape.h"
#include "libs/monitoring/report/svg_chart.h"

namespace fabrique::monitoring::report {
namespace {

absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2026, 12, day, hour, minute), absl::UTCTimeZone());
}

TEST_CASE("HtmlEscape replaces the five characters that carry markup") {
  CHECK(HtmlEscape("<a href=\"x\">Tom & 'Jerry'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  CHECK(HtmlEscape("caf\xC3\xA9 plain") == "caf\xC3\xA9 plain");
  CHECK(HtmlEscape("") == "");
}

TEST_CASE("Numbers have three significant digits, times are UTC") {
  CHECK(FormatNumber(0.34) == "0.34");
  CHECK(FormatNumber(0.123456) == "0.123");
  CHECK(FormatNumber(0.0000123) == "1.23e-05");
  CHECK(FormatNumber(-0.0) == "0");
  CHECK(FormatNumber(std::nan("")) == "n/a");
  CHECK(FormatPercent(0.125) == "12.5%");
  CHECK(FormatPercent(0) == "0%");
  CHECK(FormatUtcTime(At(3, 14, 5)) == "2026-12-03 14:05 UTC");
  CHECK(FormatSince(At(3, 14), At(3, 23)) == "14:00");
  CHECK(FormatSince(At(2, 14), At(3, 1)) == "2 Dec 14:00");
  CHECK(PeriodInWords(absl::Minutes(90)) == "90 min");
  CHECK(PeriodInWords(absl::Hours(24)) == "24 h");
  CHECK(PeriodInWords(absl::Hours(24 * 7)) == "7 days");
  CHECK(PeriodInWords(absl::Minutes(210)) == "3.5 h");
  CHECK(PeriodInWords(absl::Hours(24 * 30)) == "30 days");
}

FeatureReport Feature(std::string test, double statistic, std::optional<double> p, double threshold,
                      bool drifted) {
  FeatureReport f;
  f.test = std::move(test);
  f.statistic = statistic;
  f.p_value = p;
  f.threshold = threshold;
  f.drift_when = p.has_value() ? DriftWhen::kPValueBelow : DriftWhen::kStatisticAtLeast;
  f.drifted = drifted;
  return f;
}

TEST_CASE("The evidence names the test and compares with the threshold") {
  CHECK(DriftEvidence(Feature("wasserstein", 0.34, std::nullopt, 0.1, true)) ==
        "Wasserstein 0.34 > 0.1");
  CHECK(DriftEvidence(Feature("ks", 0.2, 0.001, 0.05, true)) == "KS p = 0.001 < 0.05");
  CHECK(DriftEvidence(Feature("jensenshannon", 0.1, std::nullopt, 0.1, true)) ==
        "Jensen-Shannon 0.1 = 0.1");
  CHECK(DriftEvidence(Feature("chisquare", 2, 0.3, 0.05, false)) == "Chi-square p = 0.3 > 0.05");
  FeatureReport missing = Feature("psi", std::nan(""), std::nullopt, 0.1, false);
  missing.enough_data = false;
  CHECK(DriftEvidence(missing) == "PSI: not enough data");
  CHECK(TestDisplayName("custom-test") == "custom-test");
}

TEST_CASE("Severity ranks drifted features first, then by distance past the threshold") {
  const FeatureReport far = Feature("wasserstein", 0.5, std::nullopt, 0.1, true);
  const FeatureReport near = Feature("ks", 0.1, 0.04, 0.05, true);
  const FeatureReport zero_p = Feature("ks", 0.9, 0.0, 0.05, true);
  const FeatureReport stable = Feature("wasserstein", 0.09, std::nullopt, 0.1, false);
  FeatureReport no_data = stable;
  no_data.enough_data = false;
  CHECK(DriftSeverity(far) == Approx(5));
  CHECK(DriftSeverity(near) == Approx(std::log(0.04) / std::log(0.05)));
  CHECK(std::isinf(DriftSeverity(zero_p)));
  CHECK(DriftSeverity(stable) < 1);
  CHECK(DriftSeverity(no_data) == -1);
  // The monitor's verdict wins at the boundary: a drifted feature never ranks below a stable one.
  const FeatureReport flagged_low = Feature("wasserstein", 0.05, std::nullopt, 0.1, true);
  CHECK(DriftSeverity(flagged_low) == 1);
  const std::vector<size_t> order =
      FeaturesBySeverity({no_data, stable, near, far, zero_p, flagged_low});
  CHECK(order == std::vector<size_t>{4, 3, 2, 5, 1, 0});
}

TEST_CASE("Axis ticks are round and cover the range") {
  const std::vector<double> shares = NiceTicks(0, 0.27, 4);
  REQUIRE(shares.size() == 4);
  CHECK(shares[0] == 0);
  CHECK(shares[1] == Approx(0.1));
  CHECK(shares[3] == Approx(0.3));
  const std::vector<double> ticks = NiceTicks(0.79, 0.88, 4);
  CHECK(ticks.front() <= 0.79);
  CHECK(ticks.back() >= 0.88);
  CHECK(ticks.size() <= 7);
  CHECK(NiceTicks(5, 5, 4).front() < 5);  // a flat series still gets an axis
  CHECK(Coord(-0.01) == "0.0");
  CHECK(Coord(12.345) == "12.3");
}

}  // namespace
}  // namespace fabrique::monitoring::report
