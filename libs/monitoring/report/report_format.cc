#include "libs/monitoring/report/report_format.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fabrique::monitoring::report {
namespace {

// The sign between a value and its threshold, as the reader checks it.
absl::string_view Comparison(double value, double threshold) {
  if (value < threshold) return "<";
  if (value > threshold) return ">";
  return "=";
}

}  // namespace

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return "0";  // never "-0"
  return absl::StrFormat("%.3g", value);
}

std::string FormatPercent(double share) {
  if (std::isnan(share)) return "n/a";
  return absl::StrFormat("%.3g%%", share * 100 == 0 ? 0.0 : share * 100);
}

std::string FormatUtcTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", time, absl::UTCTimeZone());
}

std::string FormatSince(absl::Time time, absl::Time now) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay day = absl::ToCivilDay(time, utc);
  if (day == absl::ToCivilDay(now, utc)) return absl::FormatTime("%H:%M", time, utc);
  return absl::StrCat(day.day(), absl::FormatTime(" %b %H:%M", time, utc));
}

std::string PeriodInWords(absl::Duration duration) {
  const double minutes = absl::ToDoubleMinutes(duration);
  if (minutes < 120) return absl::StrCat(std::llround(minutes), " min");
  // Tenths of hours and days: "3.5 h" is what a 3 h 30 min period is, not "4 h".
  const double hours = std::round(minutes / 6) / 10;
  if (hours < 72) return absl::StrCat(FormatNumber(hours), " h");
  return absl::StrCat(FormatNumber(std::round(hours / 2.4) / 10), " days");
}

std::string TestDisplayName(absl::string_view test) {
  if (test == "ks") return "KS";
  if (test == "wasserstein") return "Wasserstein";
  if (test == "psi") return "PSI";
  if (test == "jensenshannon") return "Jensen-Shannon";
  if (test == "chisquare") return "Chi-square";
  if (test == "z") return "Z-test";
  return std::string(test);
}

std::string DriftEvidence(const FeatureReport& feature) {
  const std::string test = TestDisplayName(feature.test);
  if (!feature.enough_data) return absl::StrCat(test, ": not enough data");
  if (feature.drift_when == DriftWhen::kPValueBelow && feature.p_value.has_value()) {
    return absl::StrCat(test, " p = ", FormatNumber(*feature.p_value), " ",
                        Comparison(*feature.p_value, feature.threshold), " ",
                        FormatNumber(feature.threshold));
  }
  return absl::StrCat(test, " ", FormatNumber(feature.statistic), " ",
                      Comparison(feature.statistic, feature.threshold), " ",
                      FormatNumber(feature.threshold));
}

double DriftSeverity(const FeatureReport& feature) {
  if (!feature.enough_data) return -1;
  double severity = 0;
  if (feature.drift_when == DriftWhen::kPValueBelow && feature.p_value.has_value()) {
    // p = 0.001 against 0.05 is about 2.3 times as far from "no evidence" (p = 1) on a log
    // scale; a p-value of 0 is the most severe of all.
    const double p = *feature.p_value;
    const double t = feature.threshold;
    if (p <= 0) {
      severity = std::numeric_limits<double>::infinity();
    } else if (t > 0 && t < 1) {
      severity = std::log(p) / std::log(t);
    }
  } else if (feature.threshold > 0 && !std::isnan(feature.statistic)) {
    severity = feature.statistic / feature.threshold;
  }
  // The verdict is the monitor's: keep the ranking consistent with it at the boundary.
  if (feature.drifted) return std::max(severity, 1.0);
  return std::clamp(severity, 0.0, std::nextafter(1.0, 0.0));
}

std::vector<size_t> FeaturesBySeverity(const std::vector<FeatureReport>& features) {
  std::vector<size_t> order(features.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> severity(features.size());
  for (size_t i = 0; i < features.size(); ++i) severity[i] = DriftSeverity(features[i]);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return severity[a] > severity[b]; });
  return order;
}

std::string HealthLabel(Health health) {
  switch (health) {
    case Health::kHealthy:
      return "Healthy";
    case Health::kDrifting:
      return "Drifting";
    case Health::kDegraded:
      return "Degraded";
    case Health::kNotEnoughData:
      return "Not enough data";
  }
  return "Unknown";
}

}  // namespace fabrique::monitoring::report
