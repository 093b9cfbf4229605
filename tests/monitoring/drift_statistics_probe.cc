// Prints every drift statistic of two windows as JSON, with 17 significant digits, so that
// tests/python/test_drift_statistics.py can compare them with scipy's.
//
// Usage: drift_statistics_probe FILE, where FILE is either
//   numeric
//   reference 1.5 nan 2.25 ...
//   current 0.5 inf ...
// or
//   categorical
//   reference red=10 blue=3 ...
//   current red=4 green=1 ...
// Exits 0 with the statistics, or 1 with {"error": ...} when a statistic refuses the data.

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/monitoring/drift_statistics.h"
#include "tests/monitoring/probe_windows.h"

namespace fm = fabrique::monitoring;

namespace {

constexpr size_t kMaxValuesAsCategories = 20;

std::string Numbers(const std::vector<double>& xs) {
  return absl::StrCat(
      "[",
      absl::StrJoin(xs, ", ", [](std::string* out, double x) { out->append(fm::JsonNumber(x)); }),
      "]");
}

std::string Strings(const std::vector<std::string>& xs) {
  return absl::StrCat(
      "[",
      absl::StrJoin(xs, ", ",
                    [](std::string* out, const std::string& x) { out->append(fm::JsonString(x)); }),
      "]");
}

// The fields that the count-based statistics add, for either kind of column.
void AddCountStatistics(const fm::AlignedCounts& binned, const fm::AlignedCounts& categories,
                        std::vector<std::string>& fields) {
  fields.push_back(absl::StrCat("\"bins\": {\"reference\": ", Numbers(binned.reference),
                                ", \"current\": ", Numbers(binned.current), "}"));
  if (absl::StatusOr<double> psi = fm::Psi(binned); psi.ok()) {
    fields.push_back(absl::StrCat("\"psi\": ", fm::JsonNumber(*psi)));
  }
  if (absl::StatusOr<double> js = fm::JensenShannon(binned); js.ok()) {
    fields.push_back(absl::StrCat("\"jensenshannon\": ", fm::JsonNumber(*js)));
  }
  if (absl::StatusOr<double> js2 = fm::JensenShannon(binned, 2.0); js2.ok()) {
    fields.push_back(absl::StrCat("\"jensenshannon_base2\": ", fm::JsonNumber(*js2)));
  }
  fields.push_back(absl::StrCat("\"categories\": ", Strings(categories.categories),
                                ", \"reference_counts\": ", Numbers(categories.reference),
                                ", \"current_counts\": ", Numbers(categories.current)));
  if (absl::StatusOr<fm::ChiSquareResult> chi = fm::ChiSquare(categories); chi.ok()) {
    fields.push_back(absl::StrCat("\"chisquare\": {\"statistic\": ", fm::JsonNumber(chi->statistic),
                                  ", \"p_value\": ", fm::JsonNumber(chi->p_value),
                                  ", \"degrees_of_freedom\": ", chi->degrees_of_freedom,
                                  ", \"expected\": ", Numbers(chi->expected), "}"));
  }
  if (absl::StatusOr<fm::ZTestResult> z = fm::ZTestProportions(categories); z.ok()) {
    fields.push_back(absl::StrCat("\"ztest\": {\"statistic\": ", fm::JsonNumber(z->statistic),
                                  ", \"p_value\": ", fm::JsonNumber(z->p_value), "}"));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fm::ProbeFailure("usage: drift_statistics_probe FILE");
  absl::StatusOr<fm::ProbeWindows> windows = fm::ReadProbeWindows(argv[1]);
  if (!windows.ok()) return fm::ProbeFailure(std::string(windows.status().message()));
  const std::string& kind = windows->kind;
  const std::vector<double>* values = windows->values;
  const fm::CategoryCountMap* counts = windows->counts;
  std::vector<std::string> fields;
  if (kind == "numeric") {
    const fm::NumericSample ref = fm::DropMissing(values[0]), cur = fm::DropMissing(values[1]);
    fields.push_back(absl::StrCat("\"reference_missing\": ", ref.missing,
                                  ", \"current_missing\": ", cur.missing));
    absl::StatusOr<fm::KsResult> ks = fm::Ks2Samp(values[0], values[1]);
    if (!ks.ok()) return fm::ProbeFailure(std::string(ks.status().message()));
    fields.push_back(absl::StrCat("\"ks\": {\"statistic\": ", fm::JsonNumber(ks->statistic),
                                  ", \"p_value\": ", fm::JsonNumber(ks->p_value),
                                  ", \"exact\": ", ks->exact ? "true" : "false", "}"));
    absl::StatusOr<fm::WassersteinResult> w = fm::Wasserstein(values[0], values[1]);
    if (!w.ok()) return fm::ProbeFailure(std::string(w.status().message()));
    fields.push_back(absl::StrCat("\"wasserstein\": {\"distance\": ", fm::JsonNumber(w->distance),
                                  ", \"normalised\": ", fm::JsonNumber(w->normalised),
                                  ", \"reference_std\": ", fm::JsonNumber(w->reference_std), "}"));
    // Values as categories only when there are few of them, as a column would be tested.
    fm::AlignedCounts as_values = fm::AlignValues(values[0], values[1]);
    if (as_values.categories.size() > kMaxValuesAsCategories) as_values = {};
    AddCountStatistics(fm::BinForDistance(values[0], values[1]), as_values, fields);
  } else if (kind == "categorical") {
    const fm::AlignedCounts aligned = fm::AlignCategories(counts[0], counts[1]);
    AddCountStatistics(aligned, aligned, fields);
  } else {
    return fm::ProbeFailure(
        absl::StrCat("the first line must be numeric or categorical, not ", kind));
  }
  std::printf("{%s}\n", absl::StrJoin(fields, ", ").c_str());
  return 0;
}
