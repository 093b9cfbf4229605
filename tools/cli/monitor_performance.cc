// `fabrique monitor performance`: how a model version does on the outcomes that arrived for its
// predictions over a window (back-testing), each metric beside its training figure, with the
// label coverage and, with --bucket, a series over time.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/monitor_args.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

void PrintMetrics(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics) {
  std::cout << absl::StrFormat("%-12s %10s %10s %10s\n", "METRIC", "LIVE", "TRAINING", "CHANGE");
  for (const v1::Metric& metric : metrics) {
    if (!metric.has_baseline()) {
      std::cout << absl::StrFormat("%-12s %10.4f %10s %10s\n", metric.name(), metric.value(), "-",
                                   "-");
      continue;
    }
    const double change = metric.value() - metric.baseline().value();
    const bool worse = metric.higher_is_better() ? change < 0 : change > 0;
    std::cout << absl::StrFormat("%-12s %10.4f %10.4f %+10.4f%s\n", metric.name(), metric.value(),
                                 metric.baseline().value(), change,
                                 worse && change != 0 ? "  (worse)" : "");
  }
}

void PrintReport(const v1::PerformanceReport& report) {
  std::cout << absl::StrFormat(
      "%s:%d  window %s .. %s\n", report.model_version().model(), report.model_version().version(),
      MonitorTimeText(report.window().start_time()), MonitorTimeText(report.window().end_time()));
  std::cout << absl::StrFormat(
      "predictions %d, with outcomes %d (label coverage %.1f%%)%s\n\n", report.prediction_count(),
      report.labelled_count(), 100 * report.label_coverage(),
      report.sufficient_labels() ? "" : ": fewer than the policy's minimum, metrics indicative");
  if (report.metrics().empty()) {
    std::cout << "no metrics: no outcome has been joined to a prediction of this window\n";
  } else {
    PrintMetrics(report.metrics());
  }
  if (!report.buckets().empty()) {
    std::cout << absl::StrFormat("\n%-22s %8s  %s\n", "BUCKET START", "LABELLED", "METRICS");
    for (const v1::PerformanceBucket& bucket : report.buckets()) {
      std::string values;
      for (const v1::Metric& metric : bucket.metrics()) {
        absl::StrAppend(&values, metric.name(), "=", absl::StrFormat("%.4f", metric.value()), " ");
      }
      std::cout << absl::StrFormat("%-22s %8d  %s\n", MonitorTimeText(bucket.window().start_time()),
                                   bucket.labelled_count(), values.empty() ? "-" : values);
    }
  }
  std::cout << "\nseverity " << ShortEnumName(v1::Severity_Name(report.severity()), "SEVERITY_")
            << ", report " << report.report_id() << "\n";
}

}  // namespace

int RunMonitorPerformance(const std::vector<std::string>& args) {
  ReportFlags common;
  absl::Duration bucket = absl::ZeroDuration();
  core::FlagSet flags(
      "fabrique monitor performance",
      "Computes live performance now: the version's predictions over the window joined to the "
      "outcomes that arrived (AUC, log loss, accuracy, precision, recall; macro-F1; RMSE, MAE, "
      "R2 by task), each beside its training figure, and the label coverage. MODEL alone means "
      "its production alias.");
  AddReportFlags(&flags, &common);
  flags.Add("bucket", &bucket, "Also a series in buckets this wide (e.g. 1h); 0 = none");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 1, "MODEL[:VERSION|@ALIAS]", &parsed)) {
    return *code;
  }
  v1::GetPerformanceReportRequest request;
  if (!common.id.empty()) {
    request.set_report_id(common.id);
  } else {
    if (auto code = ReadReportTarget(flags, parsed, common.from, common.to, request.mutable_model(),
                                     request.mutable_window())) {
      return *code;
    }
    if (bucket < absl::ZeroDuration()) return BadUsage(flags, "--bucket cannot be negative");
    const int64_t nanos = absl::ToInt64Nanoseconds(bucket);
    request.mutable_bucket()->set_seconds(nanos / 1'000'000'000);
    request.mutable_bucket()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  }
  return ShowReport(
      flags, common.connection, &client::MonitorClient::Stub::GetPerformanceReport, request,
      absl::StrCat("GetPerformanceReport ", common.id.empty() ? parsed.positional[0] : common.id),
      common.json, &PrintReport);
}

}  // namespace fabrique::cli
