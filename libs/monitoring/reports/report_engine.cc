#include "libs/monitoring/reports/report_engine.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/backtest/labelled_rows.h"
#include "libs/monitoring/reports/performance_report.h"
#include "libs/monitoring/reports/report_times.h"

namespace fabrique::monitoring {
namespace {

absl::Status CheckRange(absl::Time from, absl::Time to, absl::string_view what) {
  if (from >= to) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must end after it starts (",
                                                   absl::FormatTime(from),
                                                   " >= ", absl::FormatTime(to), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

ReportEngine::ReportEngine(ReportEngineOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()) {}

absl::StatusOr<v1::DriftReport> ReportEngine::ComputeDriftReport(absl::string_view model,
                                                                 int64_t version, absl::Time from,
                                                                 absl::Time to,
                                                                 const v1::MonitoringPolicy& policy,
                                                                 const v1::TimeRange* baseline) {
  DriftQuery query;
  query.model = std::string(model);
  query.version = version;
  query.from = from;
  query.to = to;
  if (baseline != nullptr) {
    if (!baseline->has_start_time() || !baseline->has_end_time()) {
      return absl::InvalidArgumentError("a baseline window needs its start and its end");
    }
    query.has_baseline = true;
    query.baseline_from = TimeOf(baseline->start_time());
    query.baseline_to = TimeOf(baseline->end_time());
  }
  return ComputeDrift(query, policy);
}

absl::StatusOr<v1::DriftReport> ReportEngine::ComputeDrift(const DriftQuery& query,
                                                           const v1::MonitoringPolicy& policy) {
  RETURN_IF_ERROR(CheckRange(query.from, query.to, "a drift window"));
  if (query.has_baseline) {
    RETURN_IF_ERROR(CheckRange(query.baseline_from, query.baseline_to, "a baseline window"));
  }
  ASSIGN_OR_RETURN(LiveSummaries current,
                   options_.windows->Summaries(query.model, query.version, query.from, query.to));
  DriftSides sides;
  sides.current = &current;
  sides.unknown_version = options_.known && !options_.known(query.model, query.version);
  std::optional<LiveSummaries> baseline;
  std::optional<v1::ReferenceProfile> profile;
  if (query.has_baseline) {
    ASSIGN_OR_RETURN(baseline, options_.windows->Summaries(query.model, query.version,
                                                           query.baseline_from, query.baseline_to));
    sides.baseline = &*baseline;
  } else if (!sides.unknown_version) {
    // A version the registry does not know has no profile there either; one put explicitly
    // still counts.
    ASSIGN_OR_RETURN(profile, options_.references->Find(query.model, query.version));
  } else {
    ASSIGN_OR_RETURN(profile, options_.references->Kept(query.model, query.version));
  }
  if (profile.has_value()) sides.profile = &*profile;
  ASSIGN_OR_RETURN(v1::DriftReport report, BuildDriftReport(query, sides, policy));
  report.set_report_id(options_.reports->NewId());
  *report.mutable_compute_time() = ToProto(clock_->Now());
  RETURN_IF_ERROR(options_.reports->PutDrift(report));
  return report;
}

absl::Status ReportEngine::ReadVersionFacts(absl::string_view model, int64_t version,
                                            std::vector<v1::Metric>& metrics,
                                            std::vector<std::string>& class_labels) {
  absl::StatusOr<v1::ModelVersion> registered = options_.references->Version(model, version);
  if (registered.ok()) {
    metrics.assign(registered->metrics().begin(), registered->metrics().end());
    class_labels.assign(registered->signature().class_labels().begin(),
                        registered->signature().class_labels().end());
    return absl::OkStatus();
  }
  // A version the registry does not know has no training figures: the live ones stand alone.
  if (absl::IsNotFound(registered.status())) return absl::OkStatus();
  // The registry is away: a kept profile still has the training figures.
  ASSIGN_OR_RETURN(std::optional<v1::ReferenceProfile> kept,
                   options_.references->Kept(model, version));
  if (!kept.has_value()) return registered.status();
  metrics.assign(kept->training_metrics().begin(), kept->training_metrics().end());
  return absl::OkStatus();
}

absl::StatusOr<v1::PerformanceReport> ReportEngine::ComputePerformanceReport(
    absl::string_view model, int64_t version, absl::Time from, absl::Time to,
    const v1::MonitoringPolicy& policy, absl::Duration bucket) {
  RETURN_IF_ERROR(CheckRange(from, to, "a performance window"));
  PerformanceData data;
  data.task = options_.task_of(model);
  if (data.task == v1::TASK_UNSPECIFIED) {
    return absl::UnavailableError(absl::StrCat(
        "the task of model '", model,
        "' is not known (the registry could not be asked, or the model has none): its labels "
        "cannot be scored; retry later"));
  }
  RETURN_IF_ERROR(ReadVersionFacts(model, version, data.training_metrics, data.class_labels));
  const bool series = bucket > absl::ZeroDuration();
  RETURN_IF_ERROR(
      options_.intake->ScanPredictionTimes(model, version, from, to, [&](absl::Time time) {
        ++data.prediction_count;
        if (series) data.prediction_times.push_back(time);
      }));
  RETURN_IF_ERROR(
      options_.intake->ScanJoined(model, version, from, to, [&](const JoinedPrediction& joined) {
        data.rows.push_back(LabelledRowOf(data.task, joined.prediction.record, joined.outcome));
        return true;
      }));
  PerformanceQuery query{std::string(model), version, from, to, bucket};
  ASSIGN_OR_RETURN(v1::PerformanceReport report, BuildPerformanceReport(query, data, policy));
  report.set_report_id(options_.reports->NewId());
  *report.mutable_compute_time() = ToProto(clock_->Now());
  RETURN_IF_ERROR(options_.reports->PutPerformance(report));
  return report;
}

}  // namespace fabrique::monitoring
