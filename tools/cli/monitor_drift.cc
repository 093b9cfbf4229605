// `fabrique monitor drift`: a drift report of a model version over a window, computed now by the
// monitor (or fetched by id): per feature and output the test, statistic, p-value, threshold,
// verdict and counts, then the dataset's drift.

#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/monitor_args.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

const std::map<std::string, v1::DriftMetric>& TestNames() {
  static const auto* const names = new std::map<std::string, v1::DriftMetric>{
      {"auto", v1::DRIFT_METRIC_AUTO},
      {"ks", v1::DRIFT_METRIC_KS},
      {"wasserstein", v1::DRIFT_METRIC_WASSERSTEIN},
      {"psi", v1::DRIFT_METRIC_PSI},
      {"js", v1::DRIFT_METRIC_JS},
      {"chisquare", v1::DRIFT_METRIC_CHI_SQUARED},
      {"z", v1::DRIFT_METRIC_Z_TEST},
      {"out_of_range", v1::DRIFT_METRIC_OUT_OF_RANGE},
  };
  return *names;
}

std::string TestName(v1::DriftMetric metric) {
  for (const auto& [name, value] : TestNames()) {
    if (value == metric) return name;
  }
  return "?";
}

std::string Number(double value) {
  if (std::isnan(value)) return "-";
  return absl::StrFormat("%.4g", value);
}

std::string Verdict(const v1::FeatureDrift& column) {
  switch (column.status()) {
    case v1::DRIFT_STATUS_DRIFTED:
      return column.severity() == v1::SEVERITY_CRITICAL ? "DRIFTED (critical)" : "DRIFTED";
    case v1::DRIFT_STATUS_NO_DRIFT:
      return "no drift";
    case v1::DRIFT_STATUS_NOT_ENOUGH_DATA:
      return "not enough data";
    case v1::DRIFT_STATUS_NO_REFERENCE:
      return "no reference";
    default:
      return "-";
  }
}

void PrintColumns(const std::string& title,
                  const google::protobuf::RepeatedPtrField<v1::FeatureDrift>& columns) {
  if (columns.empty()) return;
  std::cout << absl::StrFormat("%-20s %-12s %-13s %-10s %-10s %-12s %-18s %8s %8s %8s %8s\n", title,
                               "TYPE", "TEST", "STATISTIC", "P-VALUE", "THRESHOLD", "VERDICT",
                               "REF", "CURRENT", "MISSING", "OUTSIDE");
  for (const v1::FeatureDrift& column : columns) {
    if (column.scores().empty()) {
      std::cout << absl::StrFormat(
          "%-20s %-12s %-13s %-10s %-10s %-12s %-18s %8s %8d %7.1f%% %8s\n", column.name(),
          column.column_type(), "-", "-", "-", "-", Verdict(column), "-", column.count(),
          100 * column.missing_rate(), "-");
      continue;
    }
    bool first = true;
    for (const v1::DriftScore& score : column.scores()) {
      const std::string threshold =
          absl::StrCat(score.drift_when() == v1::DRIFT_WHEN_P_VALUE_BELOW ? "p<" : ">=",
                       Number(score.threshold()));
      const std::string test =
          absl::StrCat(TestName(score.metric()), score.auto_selected() ? "*" : "");
      std::cout << absl::StrFormat(
          "%-20s %-12s %-13s %-10s %-10s %-12s %-18s %8d %8d %7.1f%% %8d\n",
          first ? column.name() : "", first ? column.column_type() : "", test,
          Number(score.value()), score.has_p_value() ? Number(score.p_value().value()) : "-",
          threshold, first ? Verdict(column) : (score.drifted() ? "(drifted)" : ""),
          score.reference_count(), score.current_count(), 100 * column.missing_rate(),
          column.out_of_range_count());
      first = false;
    }
  }
}

void PrintReport(const v1::DriftReport& report) {
  std::cout << absl::StrFormat("%s:%d  window %s .. %s  predictions %d (shadow %d)\n",
                               report.model_version().model(), report.model_version().version(),
                               MonitorTimeText(report.window().start_time()),
                               MonitorTimeText(report.window().end_time()),
                               report.prediction_count(), report.shadow_prediction_count());
  if (report.has_baseline_window()) {
    std::cout << "compared with live data of "
              << MonitorTimeText(report.baseline_window().start_time()) << " .. "
              << MonitorTimeText(report.baseline_window().end_time()) << "\n";
  } else if (report.no_reference()) {
    std::cout << "no reference profile: put one with PutReferenceProfile, or register it with "
                 "the version\n";
  }
  if (report.unknown_version()) std::cout << "the registry does not know this version\n";
  if (!report.sufficient_data()) std::cout << "fewer predictions than the policy's minimum\n";
  std::cout << "\n";
  PrintColumns("FEATURE", report.features());
  if (!report.predictions().empty()) std::cout << "\n";
  PrintColumns("OUTPUT", report.predictions());
  const v1::DatasetDrift& dataset = report.dataset_drift();
  std::cout << absl::StrFormat(
      "\ndataset drift: %d of %d evaluated inputs drifted (%.0f%%, threshold %.0f%%): %s\n",
      dataset.drifted_columns(), dataset.evaluated_columns(), 100 * dataset.drifted_share(),
      100 * dataset.share_threshold(),
      dataset.evaluated_columns() == 0 ? "not enough data"
      : dataset.drifted()              ? "DRIFTED"
                                       : "no drift");
  std::cout << "severity " << ShortEnumName(v1::Severity_Name(report.severity()), "SEVERITY_")
            << ", report " << report.report_id() << "  (* = the test AUTO chose)\n";
}

}  // namespace

int RunMonitorDrift(const std::vector<std::string>& args) {
  ReportFlags common;
  std::string baseline_from;
  std::string baseline_to;
  std::vector<std::string> tests;
  bool profiles = false;
  core::FlagSet flags(
      "fabrique monitor drift",
      "Computes a drift report now: each input and output of the version over the window, "
      "against its reference profile (or an earlier window with --baseline_from/--baseline_to), "
      "with the policy's tests or Evidently's default (AUTO). MODEL alone means its production "
      "alias. Exit 0 when the report was made, whatever it says.");
  AddReportFlags(&flags, &common);
  flags.Add("baseline_from", &baseline_from, "Compare with live data from this time instead");
  flags.Add("baseline_to", &baseline_to, "End of the baseline range");
  flags.Add("test", &tests,
            "Test to run, repeatable: auto, ks, wasserstein, psi, js, chisquare, z, "
            "out_of_range; default the policy's");
  flags.Add("profiles", &profiles, "Include the live and reference distributions (with --json)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 1, "MODEL[:VERSION|@ALIAS]", &parsed)) {
    return *code;
  }
  v1::GetDriftReportRequest request;
  if (!common.id.empty()) {
    request.set_report_id(common.id);
  } else {
    if (auto code = ReadReportTarget(flags, parsed, common.from, common.to, request.mutable_model(),
                                     request.mutable_window())) {
      return *code;
    }
    const absl::Time now = absl::Now();
    if (baseline_from.empty() != baseline_to.empty()) {
      return BadUsage(flags, "give both --baseline_from and --baseline_to, or neither");
    }
    if (!baseline_from.empty()) {
      if (absl::Status set = SetRange("baseline_from", baseline_from, "baseline_to", baseline_to,
                                      now, request.mutable_baseline_window());
          !set.ok()) {
        return BadUsage(flags, set.message());
      }
    }
    for (const std::string& test : tests) {
      auto it = TestNames().find(absl::AsciiStrToLower(test));
      if (it == TestNames().end()) return BadUsage(flags, absl::StrCat("unknown --test ", test));
      request.add_metrics(it->second);
    }
    request.set_include_live_profiles(profiles);
  }
  return ShowReport(
      flags, common.connection, &client::MonitorClient::Stub::GetDriftReport, request,
      absl::StrCat("GetDriftReport ", common.id.empty() ? parsed.positional[0] : common.id),
      common.json, &PrintReport);
}

}  // namespace fabrique::cli
