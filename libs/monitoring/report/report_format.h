#ifndef FABRIQUE_LIBS_MONITORING_REPORT_REPORT_FORMAT_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_REPORT_FORMAT_H_

// How the report writes numbers, times and tests in words, and how it ranks features. Every
// function is pure: the same input always gives the same text, so pages can be compared.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

// Returns a number with three significant digits ("0.34", "1.2e-05", "1230"); "n/a" for NaN.
std::string FormatNumber(double value);

// Returns a share as a percentage ("12.5%", "0%").
std::string FormatPercent(double share);

// Returns a UTC time as "2026-12-03 14:00 UTC".
std::string FormatUtcTime(absl::Time time);

// Returns "14:00" when `time` falls on the same UTC day as `now`, else "2 Dec 14:00".
std::string FormatSince(absl::Time time, absl::Time now);

// Returns a period's length in words: "90 min", "24 h", "7 days".
std::string PeriodInWords(absl::Duration duration);

// Returns the test's name for people: "KS", "Wasserstein", "Jensen-Shannon", ...
std::string TestDisplayName(absl::string_view test);

// Returns the verdict's evidence, e.g. "Wasserstein 0.34 > 0.1" or "KS p = 0.001 < 0.05".
std::string DriftEvidence(const FeatureReport& feature);

// Returns how far past its threshold a feature is: at least 1 when it drifted, below 1 when it
// did not (p-values compare on a log scale), -1 without enough data.
double DriftSeverity(const FeatureReport& feature);

// Returns the indices of `features`, most severe first; ties keep the input order.
std::vector<size_t> FeaturesBySeverity(const std::vector<FeatureReport>& features);

// Returns "Healthy", "Drifting", "Degraded" or "Not enough data".
std::string HealthLabel(Health health);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_REPORT_FORMAT_H_
