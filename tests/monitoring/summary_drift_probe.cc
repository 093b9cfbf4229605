// Prints the drift results of two windows computed from their summaries (summary_drift.h), for
// every test, as JSON with 17 significant digits, so that tests/python/test_summary_drift.py can
// compare them with scipy's on the raw values.
//
// Usage: summary_drift_probe FILE, where FILE is drift_statistics_probe's format, except that
// the first line may read "numeric bins": the reference is then a profile of the older format,
// its 10 equal-frequency bins without the sketch.
// Exits 0 with the results (a test that refuses the data gives {"error": ...}), or 1 with
// {"error": ...} when the file cannot be read.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/monitoring/summary_drift.h"
#include "tests/monitoring/probe_windows.h"

namespace fm = fabrique::monitoring;

namespace {

std::string KindName(fm::ColumnKind kind) {
  switch (kind) {
    case fm::ColumnKind::kNumeric:
      return "numeric";
    case fm::ColumnKind::kCategorical:
      return "categorical";
    case fm::ColumnKind::kBinary:
      return "binary";
  }
  return "unknown";
}

std::string Result(const absl::StatusOr<fm::DriftResult>& result) {
  if (!result.ok())
    return absl::StrCat("{\"error\": ", fm::JsonString(result.status().message()), "}");
  return absl::StrCat("{\"test\": ", fm::JsonString(fm::DriftTestName(result->test)),
                      ", \"kind\": ", fm::JsonString(KindName(result->column_kind)),
                      ", \"statistic\": ", fm::JsonNumber(result->statistic), ", \"p_value\": ",
                      result->p_value ? fm::JsonNumber(*result->p_value) : "null",
                      ", \"error_bound\": ", fm::JsonNumber(result->error_bound),
                      ", \"enough_data\": ", result->enough_data ? "true" : "false",
                      ", \"drifted\": ", result->drifted ? "true" : "false",
                      ", \"reference_rows\": ", result->reference_rows,
                      ", \"current_rows\": ", result->current_rows,
                      ", \"reference_missing\": ", result->reference_missing,
                      ", \"current_missing\": ", result->current_missing, "}");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fm::ProbeFailure("usage: summary_drift_probe FILE");
  absl::StatusOr<fm::ProbeWindows> windows = fm::ReadProbeWindows(argv[1]);
  if (!windows.ok()) return fm::ProbeFailure(std::string(windows.status().message()));
  fm::ColumnSummary::Options options;
  options.kind = windows->kind == "numeric" ? fm::ColumnSummary::Kind::kNumeric
                                            : fm::ColumnSummary::Kind::kCategorical;
  std::vector<fm::ColumnSummary> summaries(2, fm::ColumnSummary(options));
  for (int side = 0; side < 2; ++side) {
    for (double value : windows->values[side]) summaries[side].AddNumber(value);
    for (const auto& [category, count] : windows->counts[side]) {
      for (int64_t i = 0; i < count; ++i) summaries[side].AddCategory(category);
    }
  }
  fabrique::v1::DistributionProfile reference = summaries[0].ToProto("column");
  if (windows->form == "bins") reference.mutable_numeric()->clear_quantile_sketch();
  std::vector<std::string> fields = {
      absl::StrCat("\"reference_exact\": ",
                   summaries[0].sketch() && summaries[0].sketch()->exact() ? "true" : "false"),
      absl::StrCat("\"current_exact\": ",
                   summaries[1].sketch() && summaries[1].sketch()->exact() ? "true" : "false")};
  for (fm::DriftTestKind test :
       {fm::DriftTestKind::kAuto, fm::DriftTestKind::kKs, fm::DriftTestKind::kWasserstein,
        fm::DriftTestKind::kPsi, fm::DriftTestKind::kJensenShannon, fm::DriftTestKind::kChiSquare,
        fm::DriftTestKind::kZTest}) {
    fm::DriftOptions drift;
    drift.test = test;
    fields.push_back(absl::StrCat(fm::JsonString(fm::DriftTestName(test)), ": ",
                                  Result(fm::EvaluateSummaries(reference, summaries[1], drift))));
  }
  std::printf("{%s}\n", absl::StrJoin(fields, ", ").c_str());
  return 0;
}
