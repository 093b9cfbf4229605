#include "libs/monitoring/reports/drift_report.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/column_drift.h"
#include "libs/monitoring/reports/drift_scoring.h"
#include "libs/monitoring/reports/report_times.h"

namespace fabrique::monitoring {
namespace {

const LiveColumn* OutputNamed(const LiveSummaries& summaries, const std::string& name) {
  for (const LiveColumn& column : summaries.outputs) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

const v1::DistributionProfile* PredictionNamed(const v1::ReferenceProfile* profile,
                                               const std::string& name) {
  if (profile == nullptr) return nullptr;
  for (const v1::DistributionProfile& column : profile->predictions()) {
    if (column.name() == name) return &column;
  }
  return nullptr;
}

// An empty live summary shaped like `reference`, for a column without traffic in the window.
ColumnSummary EmptyLike(const v1::DistributionProfile* reference, const ColumnSummary* baseline) {
  ColumnSummary::Options options;
  if (reference != nullptr) options = ColumnSummary::AgainstReference(*reference);
  if (baseline != nullptr) options.kind = baseline->kind();
  return ColumnSummary(options);
}

// Builds the columns one at a time, keeping the inputs' verdicts for dataset drift.
class ReportAssembler {
 public:
  ReportAssembler(const DriftQuery& query, const DriftSides& sides,
                  const v1::MonitoringPolicy& policy)
      : query_(query),
        sides_(sides),
        policy_(policy),
        profile_(query.has_baseline ? nullptr : sides.profile),
        min_rows_(policy.min_samples() > 0 ? policy.min_samples() : 30) {}

  absl::Status AddInputs(v1::DriftReport& report) {
    const size_t live = sides_.current->inputs.size();
    const size_t reference = profile_ != nullptr          ? profile_->features_size()
                             : sides_.baseline != nullptr ? sides_.baseline->inputs.size()
                                                          : 0;
    for (size_t i = 0; i < std::max(live, reference); ++i) {
      const v1::DistributionProfile* profile_column =
          profile_ != nullptr && i < reference ? &profile_->features(static_cast<int>(i)) : nullptr;
      const ColumnSummary* baseline_column =
          sides_.baseline != nullptr && i < sides_.baseline->inputs.size()
              ? &sides_.baseline->inputs[i].summary
              : nullptr;
      std::string name = profile_column != nullptr ? profile_column->name()
                         : i < live && !sides_.current->inputs[i].name.empty()
                             ? sides_.current->inputs[i].name
                             : absl::StrCat("input_", i);
      ASSIGN_OR_RETURN(ScoredColumn scored,
                       Score(name, /*output=*/false, profile_column, baseline_column,
                             i < live ? &sides_.current->inputs[i].summary : nullptr));
      if (scored.verdict.has_value()) input_verdicts_.push_back(*scored.verdict);
      *report.add_features() = std::move(scored.drift);
    }
    return absl::OkStatus();
  }

  absl::Status AddOutputs(v1::DriftReport& report) {
    std::vector<std::string> names;
    absl::flat_hash_set<std::string> seen;
    const auto add_name = [&](const std::string& name) {
      if (seen.insert(name).second) names.push_back(name);
    };
    if (profile_ != nullptr) {
      for (const v1::DistributionProfile& column : profile_->predictions()) add_name(column.name());
    }
    if (sides_.baseline != nullptr) {
      for (const LiveColumn& column : sides_.baseline->outputs) add_name(column.name);
    }
    for (const LiveColumn& column : sides_.current->outputs) add_name(column.name);
    for (const std::string& name : names) {
      const LiveColumn* baseline_column =
          sides_.baseline != nullptr ? OutputNamed(*sides_.baseline, name) : nullptr;
      const LiveColumn* live = OutputNamed(*sides_.current, name);
      ASSIGN_OR_RETURN(ScoredColumn scored,
                       Score(name, /*output=*/true, PredictionNamed(profile_, name),
                             baseline_column != nullptr ? &baseline_column->summary : nullptr,
                             live != nullptr ? &live->summary : nullptr));
      *report.add_predictions() = std::move(scored.drift);
    }
    return absl::OkStatus();
  }

  void AddDatasetDrift(v1::DriftReport& report) const {
    const double share = policy_.dataset_drift_share() > 0 ? policy_.dataset_drift_share() : 0.5;
    const DatasetDriftResult result = DatasetDrift(input_verdicts_, share);
    v1::DatasetDrift* dataset = report.mutable_dataset_drift();
    dataset->set_columns(report.features_size());
    dataset->set_evaluated_columns(result.evaluated_columns);
    dataset->set_drifted_columns(result.drifted_columns);
    dataset->set_drifted_share(result.drifted_share);
    dataset->set_share_threshold(result.share_threshold);
    dataset->set_drifted(result.drifted);
  }

 private:
  absl::StatusOr<ScoredColumn> Score(const std::string& name, bool output,
                                     const v1::DistributionProfile* profile_column,
                                     const ColumnSummary* baseline_column,
                                     const ColumnSummary* live) {
    ColumnReference reference;
    reference.profile = query_.has_baseline ? nullptr : profile_column;
    reference.baseline = query_.has_baseline ? baseline_column : nullptr;
    // A column without traffic, or with only missing values (whose type the live windows could
    // not tell), is read as the reference's type.
    std::optional<ColumnSummary> empty;
    if (live == nullptr || live->count() == live->missing_count()) {
      empty.emplace(EmptyLike(reference.profile, reference.baseline));
      if (live != nullptr && live->missing_count() > 0) empty->AddMissing(live->missing_count());
      live = &*empty;
    }
    return ScoreColumn(name, reference, *live, SpecsFor(name, output, policy_, query_.metrics),
                       min_rows_, query_.include_live_profiles);
  }

  const DriftQuery& query_;
  const DriftSides& sides_;
  const v1::MonitoringPolicy& policy_;
  const v1::ReferenceProfile* const profile_;
  const int64_t min_rows_;
  std::vector<DriftResult> input_verdicts_;
};

}  // namespace

absl::StatusOr<v1::DriftReport> BuildDriftReport(const DriftQuery& query, const DriftSides& sides,
                                                 const v1::MonitoringPolicy& policy) {
  if (sides.current == nullptr) return absl::InvalidArgumentError("no live summaries");
  if (query.has_baseline && sides.baseline == nullptr) {
    return absl::InvalidArgumentError("a baseline range was asked without its summaries");
  }
  for (v1::DriftMetric metric : query.metrics) {
    if (metric == v1::DRIFT_METRIC_UNSPECIFIED || !v1::DriftMetric_IsValid(metric)) {
      return absl::InvalidArgumentError(
          absl::StrCat("drift metric ", metric, " is not a test: name one, or AUTO"));
    }
  }
  v1::DriftReport report;
  report.mutable_model_version()->set_model(query.model);
  report.mutable_model_version()->set_version(query.version);
  SetRange(query.from, query.to, report.mutable_window());
  if (query.has_baseline) {
    SetRange(query.baseline_from, query.baseline_to, report.mutable_baseline_window());
  }
  report.set_prediction_count(sides.current->predictions);
  report.set_shadow_prediction_count(sides.current->shadow_predictions);
  report.set_sufficient_data(sides.current->predictions >= policy.min_samples());
  report.set_unknown_version(sides.unknown_version);
  report.set_no_reference(!query.has_baseline && sides.profile == nullptr);

  ReportAssembler assembler(query, sides, policy);
  RETURN_IF_ERROR(assembler.AddInputs(report));
  RETURN_IF_ERROR(assembler.AddOutputs(report));
  assembler.AddDatasetDrift(report);
  v1::Severity severity = v1::SEVERITY_OK;
  for (const v1::FeatureDrift& column : report.features()) {
    severity = std::max(severity, column.severity());
  }
  for (const v1::FeatureDrift& column : report.predictions()) {
    severity = std::max(severity, column.severity());
  }
  report.set_severity(severity);
  return report;
}

}  // namespace fabrique::monitoring
