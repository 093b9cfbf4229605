#include "libs/monitoring/canary/prediction_drift.h"

#include "libs/core/status_macros.h"
#include "libs/monitoring/column_drift.h"
#include "libs/monitoring/summary_drift.h"

namespace fabrique::monitoring {
namespace {

v1::DriftMetric MetricOf(DriftTestKind test) {
  switch (test) {
    case DriftTestKind::kPsi:
      return v1::DRIFT_METRIC_PSI;
    case DriftTestKind::kKs:
      return v1::DRIFT_METRIC_KS;
    case DriftTestKind::kWasserstein:
      return v1::DRIFT_METRIC_WASSERSTEIN;
    case DriftTestKind::kJensenShannon:
      return v1::DRIFT_METRIC_JS;
    case DriftTestKind::kChiSquare:
      return v1::DRIFT_METRIC_CHI_SQUARED;
    case DriftTestKind::kZTest:
      return v1::DRIFT_METRIC_Z_TEST;
    default:
      return v1::DRIFT_METRIC_UNSPECIFIED;
  }
}

const char* ColumnTypeOf(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kCategorical:
      return "categorical";
    case ColumnKind::kBinary:
      return "binary";
    default:
      return "numeric";
  }
}

double Share(int64_t part, int64_t whole) {
  return whole == 0 ? 0 : static_cast<double>(part) / static_cast<double>(whole);
}

v1::FeatureDrift Describe(const std::string& name, const ColumnSummary& primary,
                          const ColumnSummary& candidate, const DriftResult& result) {
  v1::FeatureDrift drift;
  drift.set_name(name);
  drift.set_count(candidate.count());
  drift.set_missing_rate(Share(candidate.missing_count(), candidate.count()));
  drift.set_reference_missing_rate(Share(primary.missing_count(), primary.count()));
  drift.set_column_type(ColumnTypeOf(result.column_kind));
  drift.set_status(!result.enough_data ? v1::DRIFT_STATUS_NOT_ENOUGH_DATA
                   : result.drifted    ? v1::DRIFT_STATUS_DRIFTED
                                       : v1::DRIFT_STATUS_NO_DRIFT);
  const v1::Severity severity = !result.enough_data ? v1::SEVERITY_UNSPECIFIED
                                : result.drifted    ? v1::SEVERITY_WARNING
                                                    : v1::SEVERITY_OK;
  drift.set_severity(severity);
  v1::DriftScore* score = drift.add_scores();
  score->set_metric(MetricOf(result.test));
  score->set_value(result.statistic);
  if (result.p_value) score->mutable_p_value()->set_value(*result.p_value);
  score->set_threshold(result.threshold.value);
  score->set_drift_when(result.threshold.drift_when == DriftWhen::kPValueBelow
                            ? v1::DRIFT_WHEN_P_VALUE_BELOW
                            : v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
  score->set_reference_count(result.reference_rows);
  score->set_current_count(result.current_rows);
  score->set_enough_data(result.enough_data);
  score->set_drifted(result.drifted);
  score->set_error_bound(result.error_bound);
  score->set_auto_selected(true);
  score->set_severity(severity);
  return drift;
}

}  // namespace

absl::StatusOr<std::vector<v1::FeatureDrift>> PredictionDrift(const LiveSummaries& primary,
                                                              const LiveSummaries& candidate,
                                                              int64_t min_rows) {
  DriftOptions options;
  options.min_rows = min_rows;
  std::vector<v1::FeatureDrift> drifts;
  for (const LiveColumn& output : candidate.outputs) {
    const LiveColumn* reference = nullptr;
    for (const LiveColumn& other : primary.outputs) {
      if (other.name == output.name) reference = &other;
    }
    if (reference == nullptr) continue;
    ASSIGN_OR_RETURN(const DriftResult result,
                     EvaluateSummaries(reference->summary, output.summary, options));
    drifts.push_back(Describe(output.name, reference->summary, output.summary, result));
  }
  return drifts;
}

}  // namespace fabrique::monitoring
