#include "libs/monitoring/canary/canary_comparer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/backtest/canary_comparison.h"
#include "libs/monitoring/backtest/labelled_rows.h"
#include "libs/monitoring/backtest/window_performance.h"
#include "libs/monitoring/canary/prediction_drift.h"

namespace fabrique::monitoring {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

// One version's traffic in the period: how many predictions, and those joined to an outcome.
struct SideData {
  int64_t predictions = 0;
  std::vector<LabelledRow> rows;
};

absl::StatusOr<SideData> ReadSide(const IntakeStore& intake, const CanaryPlan& plan,
                                  int64_t version) {
  SideData side;
  RETURN_IF_ERROR(intake.ScanPredictions(plan.model, version, plan.from, plan.to,
                                         [&side](const StoredPrediction&) {
                                           ++side.predictions;
                                           return true;
                                         }));
  RETURN_IF_ERROR(intake.ScanJoined(
      plan.model, version, plan.from, plan.to, [&](const JoinedPrediction& joined) {
        side.rows.push_back(LabelledRowOf(plan.task, joined.prediction.record, joined.outcome));
        return true;
      }));
  return side;
}

// The side as reported: its version, sample sizes and live metrics.
absl::StatusOr<v1::CanarySide> DescribeSide(const CanaryPlan& plan, int64_t version,
                                            const SideData& data,
                                            const std::vector<std::string>& class_labels) {
  PerformanceOptions options;
  options.min_labelled = plan.min_labelled;
  options.class_labels = class_labels;
  ASSIGN_OR_RETURN(WindowPerformance performance,
                   ComputePerformance(plan.task, data.rows, data.predictions, {}, options));
  v1::CanarySide side;
  side.mutable_model_version()->set_model(plan.model);
  side.mutable_model_version()->set_version(version);
  side.set_prediction_count(data.predictions);
  side.set_labelled_count(performance.labelled_count);
  side.set_label_coverage(data.predictions == 0 ? 0
                                                : static_cast<double>(performance.labelled_count) /
                                                      static_cast<double>(data.predictions));
  for (v1::Metric& metric : LiveMetrics(performance)) *side.add_metrics() = std::move(metric);
  return side;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CanaryComparer>> CanaryComparer::Create(
    CanaryComparerOptions options) {
  if (options.intake == nullptr) {
    return absl::InvalidArgumentError("the canary comparer needs the intake store");
  }
  if (!options.models) {
    return absl::InvalidArgumentError("the canary comparer needs a model lookup");
  }
  return std::unique_ptr<CanaryComparer>(new CanaryComparer(std::move(options)));
}

CanaryComparer::CanaryComparer(CanaryComparerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()) {}

absl::StatusOr<v1::CanaryComparison> CanaryComparer::Compare(
    const v1::CompareCanaryRequest& request) const {
  if (request.model().empty()) return absl::InvalidArgumentError("model is required");
  absl::StatusOr<v1::Model> model = options_.models(request.model());
  if (absl::IsNotFound(model.status())) return model.status();
  if (!model.ok()) {
    return absl::UnavailableError(absl::StrCat("the registry could not say which versions model '",
                                               request.model(),
                                               "' has: ", model.status().message()));
  }
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(const CanaryPlan plan, PlanCanary(request, *model, now, options_.defaults));
  std::vector<std::string> class_labels;
  if (options_.class_labels) {
    absl::StatusOr<std::vector<std::string>> labels =
        options_.class_labels(plan.model, plan.candidate_version);
    if (!labels.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "the registry could not give the class labels "
          "of version ",
          plan.candidate_version, " of model '", plan.model, "': ", labels.status().message()));
    }
    class_labels = *std::move(labels);
  }
  ASSIGN_OR_RETURN(const SideData candidate,
                   ReadSide(*options_.intake, plan, plan.candidate_version));
  ASSIGN_OR_RETURN(const SideData primary, ReadSide(*options_.intake, plan, plan.primary_version));

  CanaryOptions canary;
  canary.metric = plan.metric;
  canary.max_worse_by = plan.max_degradation;
  canary.min_labelled = plan.min_labelled;
  canary.class_labels = class_labels;
  ASSIGN_OR_RETURN(const CanaryComparison decided,
                   CompareCandidate(plan.task, primary.rows, candidate.rows, canary));

  v1::CanaryComparison comparison;
  comparison.set_report_id(core::IdGenerator::Default().Next());
  ASSIGN_OR_RETURN(*comparison.mutable_candidate(),
                   DescribeSide(plan, plan.candidate_version, candidate, class_labels));
  ASSIGN_OR_RETURN(*comparison.mutable_primary(),
                   DescribeSide(plan, plan.primary_version, primary, class_labels));
  if (options_.windows != nullptr) {
    ASSIGN_OR_RETURN(
        const LiveSummaries candidate_outputs,
        options_.windows->Summaries(plan.model, plan.candidate_version, plan.from, plan.to));
    ASSIGN_OR_RETURN(
        const LiveSummaries primary_outputs,
        options_.windows->Summaries(plan.model, plan.primary_version, plan.from, plan.to));
    ASSIGN_OR_RETURN(std::vector<v1::FeatureDrift> drifts,
                     PredictionDrift(primary_outputs, candidate_outputs));
    for (v1::FeatureDrift& drift : drifts) *comparison.add_prediction_drift() = std::move(drift);
  }
  *comparison.mutable_window()->mutable_start_time() = ToTimestamp(plan.from);
  *comparison.mutable_window()->mutable_end_time() = ToTimestamp(plan.to);
  comparison.set_metric(decided.metric);
  comparison.set_degradation(decided.worse_by.value_or(0));
  comparison.set_max_degradation(plan.max_degradation);
  comparison.set_min_labelled(plan.min_labelled);
  comparison.set_enough_data(decided.verdict != CanaryVerdict::kNotEnoughData);
  comparison.set_candidate_not_worse(decided.verdict == CanaryVerdict::kNotWorse);
  comparison.set_verdict(
      absl::StrCat(CanaryVerdictName(decided.verdict), ": ", decided.explanation));
  *comparison.mutable_compute_time() = ToTimestamp(now);
  return comparison;
}

}  // namespace fabrique::monitoring
