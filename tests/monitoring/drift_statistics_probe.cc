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
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/monitoring/drift_statistics.h"

namespace fm = fabrique::monitoring;

namespace {

constexpr size_t kMaxValuesAsCategories = 20;

// A double as JSON that Python's json module reads back exactly (it accepts NaN and Infinity).
std::string Number(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  return absl::StrFormat("%.17g", x);
}

std::string Numbers(const std::vector<double>& xs) {
  return absl::StrCat(
      "[", absl::StrJoin(xs, ", ", [](std::string* out, double x) { out->append(Number(x)); }),
      "]");
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

std::string Strings(const std::vector<std::string>& xs) {
  return absl::StrCat(
      "[",
      absl::StrJoin(xs, ", ",
                    [](std::string* out, const std::string& x) { out->append(Quoted(x)); }),
      "]");
}

// The fields that the count-based statistics add, for either kind of column.
void AddCountStatistics(const fm::AlignedCounts& binned, const fm::AlignedCounts& categories,
                        std::vector<std::string>& fields) {
  fields.push_back(absl::StrCat("\"bins\": {\"reference\": ", Numbers(binned.reference),
                                ", \"current\": ", Numbers(binned.current), "}"));
  if (absl::StatusOr<double> psi = fm::Psi(binned); psi.ok()) {
    fields.push_back(absl::StrCat("\"psi\": ", Number(*psi)));
  }
  if (absl::StatusOr<double> js = fm::JensenShannon(binned); js.ok()) {
    fields.push_back(absl::StrCat("\"jensenshannon\": ", Number(*js)));
  }
  if (absl::StatusOr<double> js2 = fm::JensenShannon(binned, 2.0); js2.ok()) {
    fields.push_back(absl::StrCat("\"jensenshannon_base2\": ", Number(*js2)));
  }
  fields.push_back(absl::StrCat("\"categories\": ", Strings(categories.categories),
                                ", \"reference_counts\": ", Numbers(categories.reference),
                                ", \"current_counts\": ", Numbers(categories.current)));
  if (absl::StatusOr<fm::ChiSquareResult> chi = fm::ChiSquare(categories); chi.ok()) {
    fields.push_back(absl::StrCat("\"chisquare\": {\"statistic\": ", Number(chi->statistic),
                                  ", \"p_value\": ", Number(chi->p_value),
                                  ", \"degrees_of_freedom\": ", chi->degrees_of_freedom,
                                  ", \"expected\": ", Numbers(chi->expected), "}"));
  }
  if (absl::StatusOr<fm::ZTestResult> z = fm::ZTestProportions(categories); z.ok()) {
    fields.push_back(absl::StrCat("\"ztest\": {\"statistic\": ", Number(z->statistic),
                                  ", \"p_value\": ", Number(z->p_value), "}"));
  }
}

int Fail(const std::string& message) {
  std::printf("{\"error\": %s}\n", Quoted(message).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: drift_statistics_probe FILE");
  std::ifstream in(argv[1]);
  std::string kind, line;
  std::getline(in, kind);
  std::vector<double> values[2];
  fm::CategoryCountMap counts[2];
  for (int side = 0; side < 2 && std::getline(in, line); ++side) {
    std::istringstream words(line);
    std::string word;
    words >> word;  // "reference" or "current"
    while (words >> word) {
      if (kind == "numeric") {
        values[side].push_back(std::strtod(word.c_str(), nullptr));
        continue;
      }
      const size_t equals = word.rfind('=');
      int64_t count = 0;
      if (equals == std::string::npos || !absl::SimpleAtoi(word.substr(equals + 1), &count)) {
        return Fail(absl::StrCat("not a category=count pair: ", word));
      }
      counts[side][word.substr(0, equals)] += count;
    }
  }
  std::vector<std::string> fields;
  if (kind == "numeric") {
    const fm::NumericSample ref = fm::DropMissing(values[0]), cur = fm::DropMissing(values[1]);
    fields.push_back(absl::StrCat("\"reference_missing\": ", ref.missing,
                                  ", \"current_missing\": ", cur.missing));
    absl::StatusOr<fm::KsResult> ks = fm::Ks2Samp(values[0], values[1]);
    if (!ks.ok()) return Fail(std::string(ks.status().message()));
    fields.push_back(absl::StrCat("\"ks\": {\"statistic\": ", Number(ks->statistic),
                                  ", \"p_value\": ", Number(ks->p_value),
                                  ", \"exact\": ", ks->exact ? "true" : "false", "}"));
    absl::StatusOr<fm::WassersteinResult> w = fm::Wasserstein(values[0], values[1]);
    if (!w.ok()) return Fail(std::string(w.status().message()));
    fields.push_back(absl::StrCat("\"wasserstein\": {\"distance\": ", Number(w->distance),
                                  ", \"normalised\": ", Number(w->normalised),
                                  ", \"reference_std\": ", Number(w->reference_std), "}"));
    // Values as categories only when there are few of them, as a column would be tested.
    fm::AlignedCounts as_values = fm::AlignValues(values[0], values[1]);
    if (as_values.categories.size() > kMaxValuesAsCategories) as_values = {};
    AddCountStatistics(fm::BinForDistance(values[0], values[1]), as_values, fields);
  } else if (kind == "categorical") {
    const fm::AlignedCounts aligned = fm::AlignCategories(counts[0], counts[1]);
    AddCountStatistics(aligned, aligned, fields);
  } else {
    return Fail(absl::StrCat("the first line must be numeric or categorical, not ", kind));
  }
  std::printf("{%s}\n", absl::StrJoin(fields, ", ").c_str());
  return 0;
}
