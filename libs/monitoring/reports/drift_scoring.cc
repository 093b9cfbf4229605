#include "libs/monitoring/reports/drift_scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/drift_test_selection.h"
#include "libs/monitoring/summary_drift.h"

namespace fabrique::monitoring {
namespace {

DriftTestKind TestOf(v1::DriftMetric metric) {
  switch (metric) {
    case v1::DRIFT_METRIC_PSI:
      return DriftTestKind::kPsi;
    case v1::DRIFT_METRIC_KS:
      return DriftTestKind::kKs;
    case v1::DRIFT_METRIC_JS:
      return DriftTestKind::kJensenShannon;
    case v1::DRIFT_METRIC_CHI_SQUARED:
      return DriftTestKind::kChiSquare;
    case v1::DRIFT_METRIC_WASSERSTEIN:
      return DriftTestKind::kWasserstein;
    case v1::DRIFT_METRIC_Z_TEST:
      return DriftTestKind::kZTest;
    default:
      return DriftTestKind::kAuto;
  }
}

v1::DriftMetric MetricOf(DriftTestKind test) {
  switch (test) {
    case DriftTestKind::kPsi:
      return v1::DRIFT_METRIC_PSI;
    case DriftTestKind::kKs:
      return v1::DRIFT_METRIC_KS;
    case DriftTestKind::kJensenShannon:
      return v1::DRIFT_METRIC_JS;
    case DriftTestKind::kChiSquare:
      return v1::DRIFT_METRIC_CHI_SQUARED;
    case DriftTestKind::kWasserstein:
      return v1::DRIFT_METRIC_WASSERSTEIN;
    case DriftTestKind::kZTest:
      return v1::DRIFT_METRIC_Z_TEST;
    case DriftTestKind::kAuto:
      break;
  }
  return v1::DRIFT_METRIC_AUTO;
}

const char* KindName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kNumeric:
      return "numeric";
    case ColumnKind::kCategorical:
      return "categorical";
    case ColumnKind::kBinary:
      return "binary";
  }
  return "numeric";
}

bool Applies(const v1::DriftThreshold& entry, const std::string& name, bool output) {
  if (output) return entry.include_predictions();
  return entry.features().empty() || std::find(entry.features().begin(), entry.features().end(),
                                               name) != entry.features().end();
}

v1::Severity Worse(v1::Severity a, v1::Severity b) { return std::max(a, b); }

// The score of a result, with the spec's thresholds and the severity they give.
v1::DriftScore ScoreOf(const DriftResult& result, const ScoreSpec& spec) {
  v1::DriftScore score;
  score.set_metric(MetricOf(result.test));
  score.set_value(result.statistic);
  if (result.p_value.has_value()) score.mutable_p_value()->set_value(*result.p_value);
  score.set_warning_threshold(spec.warning_threshold);
  score.set_critical_threshold(spec.critical_threshold);
  score.set_threshold(result.threshold.value);
  const bool by_p_value = result.threshold.drift_when == DriftWhen::kPValueBelow;
  score.set_drift_when(by_p_value ? v1::DRIFT_WHEN_P_VALUE_BELOW
                                  : v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
  score.set_reference_count(result.reference_rows);
  score.set_current_count(result.current_rows);
  score.set_enough_data(result.enough_data);
  score.set_drifted(result.drifted);
  score.set_error_bound(result.error_bound);
  score.set_auto_selected(spec.metric == v1::DRIFT_METRIC_AUTO);
  if (!result.enough_data) {
    score.set_severity(v1::SEVERITY_INFO);
  } else if (!result.drifted) {
    score.set_severity(v1::SEVERITY_OK);
  } else {
    const double measured = by_p_value ? result.p_value.value_or(1) : result.statistic;
    const bool critical =
        spec.critical_threshold > 0 &&
        IsDrift(measured, DriftThreshold{spec.critical_threshold, result.threshold.drift_when});
    score.set_severity(critical ? v1::SEVERITY_CRITICAL : v1::SEVERITY_WARNING);
  }
  return score;
}

// The share of live values outside the reference, as a drift result of its own.
DriftResult OutOfRangeResult(const v1::DistributionProfile& reference, const ColumnSummary& current,
                             const ScoreSpec& spec, int64_t min_rows) {
  DriftResult result;
  result.test = DriftTestKind::kAuto;
  result.column_kind = current.kind() == ColumnSummary::Kind::kNumeric ? ColumnKind::kNumeric
                                                                       : ColumnKind::kCategorical;
  const int64_t values = current.count() - current.missing_count();
  result.current_rows = values;
  result.current_missing = current.missing_count();
  result.reference_rows =
      reference.has_numeric()
          ? reference.numeric().count()
          : static_cast<int64_t>(std::llround(reference.count() * (1 - reference.missing_rate())));
  result.threshold = {spec.warning_threshold > 0 ? spec.warning_threshold : 0.1,
                      DriftWhen::kStatisticAtLeast};
  result.enough_data = values >= min_rows;
  if (result.enough_data) {
    result.statistic = static_cast<double>(OutOfRangeCount(reference, current)) / values;
    result.drifted = IsDrift(result.statistic, result.threshold);
  }
  return result;
}

}  // namespace

std::vector<ScoreSpec> SpecsFor(const std::string& name, bool output,
                                const v1::MonitoringPolicy& policy,
                                const std::vector<v1::DriftMetric>& asked) {
  std::vector<ScoreSpec> specs;
  if (!asked.empty()) {
    for (v1::DriftMetric metric : asked) {
      ScoreSpec spec{metric};
      for (const v1::DriftThreshold& entry : policy.drift()) {
        if (entry.metric() != metric || !Applies(entry, name, output)) continue;
        spec.warning_threshold = entry.warning_threshold();
        spec.critical_threshold = entry.critical_threshold();
        break;
      }
      specs.push_back(spec);
    }
    return specs;
  }
  for (const v1::DriftThreshold& entry : policy.drift()) {
    if (!Applies(entry, name, output)) continue;
    const v1::DriftMetric metric =
        entry.metric() == v1::DRIFT_METRIC_UNSPECIFIED ? v1::DRIFT_METRIC_AUTO : entry.metric();
    specs.push_back({metric, entry.warning_threshold(), entry.critical_threshold()});
  }
  if (specs.empty()) specs.push_back({v1::DRIFT_METRIC_AUTO});
  return specs;
}

int64_t OutOfRangeCount(const v1::DistributionProfile& reference, const ColumnSummary& current) {
  if (reference.has_numeric() && current.sketch() != nullptr) {
    const v1::NumericSummary& numeric = reference.numeric();
    const QuantileSketch& sketch = *current.sketch();
    if (numeric.count() == 0 || sketch.empty()) return 0;
    const double below =
        sketch.Rank(std::nextafter(numeric.min_value(), -std::numeric_limits<double>::infinity()));
    const double above = 1 - sketch.Rank(numeric.max_value());
    return std::llround((below + above) * static_cast<double>(sketch.count()));
  }
  if (reference.has_categorical() && current.kind() == ColumnSummary::Kind::kCategorical) {
    const v1::CategoricalSummary& categorical = reference.categorical();
    // A truncated list cannot say what lies outside it.
    if (categorical.other_count() != 0 || categorical.other_fraction() != 0) return 0;
    absl::flat_hash_set<std::string> listed;
    for (const v1::CategoryFrequency& category : categorical.categories()) {
      listed.insert(category.value());
    }
    int64_t outside = 0;
    for (const auto& [value, count] : current.categories().Sorted()) {
      if (!listed.contains(value)) outside += count;
    }
    return outside;
  }
  return 0;
}

absl::StatusOr<ScoredColumn> ScoreColumn(const std::string& name, const ColumnReference& reference,
                                         const ColumnSummary& current,
                                         const std::vector<ScoreSpec>& specs, int64_t min_rows,
                                         bool include_profiles) {
  ScoredColumn scored;
  v1::FeatureDrift& drift = scored.drift;
  drift.set_name(name);
  drift.set_count(current.count());
  drift.set_missing_rate(
      current.count() > 0 ? static_cast<double>(current.missing_count()) / current.count() : 0);
  if (include_profiles) *drift.mutable_live() = current.ToProto(name);
  if (reference.profile == nullptr && reference.baseline == nullptr) {
    drift.set_status(v1::DRIFT_STATUS_NO_REFERENCE);
    drift.set_severity(v1::SEVERITY_INFO);
    drift.set_column_type(current.kind() == ColumnSummary::Kind::kNumeric ? "numeric"
                                                                          : "categorical");
    return scored;
  }
  // The reference as a profile column: the profile's, or the baseline's persisted form, so that
  // the missing rate and the out-of-range count read one shape.
  const v1::DistributionProfile reference_column =
      reference.profile != nullptr ? *reference.profile : reference.baseline->ToProto(name);
  if (reference.profile != nullptr) *drift.mutable_feature() = reference.profile->feature();
  drift.set_reference_missing_rate(reference_column.missing_rate());
  if (include_profiles) *drift.mutable_reference() = reference_column;
  if (reference_column.has_numeric() != (current.kind() == ColumnSummary::Kind::kNumeric)) {
    // Live values of another type than the reference's (categories where it had numbers): no
    // test compares them, and none of them fits the reference.
    drift.set_status(v1::DRIFT_STATUS_NO_REFERENCE);
    drift.set_severity(v1::SEVERITY_WARNING);
    drift.set_column_type(current.kind() == ColumnSummary::Kind::kNumeric ? "numeric"
                                                                          : "categorical");
    drift.set_out_of_range_count(current.count() - current.missing_count());
    return scored;
  }
  drift.set_out_of_range_count(OutOfRangeCount(reference_column, current));

  const auto evaluate = [&](const ScoreSpec& spec) -> absl::StatusOr<DriftResult> {
    if (spec.metric == v1::DRIFT_METRIC_OUT_OF_RANGE) {
      return OutOfRangeResult(reference_column, current, spec, min_rows);
    }
    DriftOptions options;
    options.test = TestOf(spec.metric);
    if (spec.warning_threshold > 0) options.threshold = spec.warning_threshold;
    options.min_rows = min_rows;
    return reference.baseline != nullptr ? EvaluateSummaries(*reference.baseline, current, options)
                                         : EvaluateSummaries(*reference.profile, current, options);
  };
  v1::Severity severity = v1::SEVERITY_OK;
  for (const ScoreSpec& spec : specs) {
    absl::StatusOr<DriftResult> result = evaluate(spec);
    // A named test that does not fit this column's type is left out for it (see the header).
    if (absl::IsInvalidArgument(result.status()) && spec.metric != v1::DRIFT_METRIC_AUTO) continue;
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          absl::StrCat("column '", name, "': ", result.status().message()));
    }
    v1::DriftScore score = ScoreOf(*result, spec);
    if (spec.metric == v1::DRIFT_METRIC_OUT_OF_RANGE) {
      score.set_metric(v1::DRIFT_METRIC_OUT_OF_RANGE);
      score.set_auto_selected(false);
    }
    severity = Worse(severity, score.severity());
    *drift.add_scores() = std::move(score);
    if (!scored.verdict.has_value()) scored.verdict = *std::move(result);
  }
  if (!scored.verdict.has_value()) {
    // No named test fits: the column gets Evidently's default instead.
    ASSIGN_OR_RETURN(DriftResult result, evaluate(ScoreSpec{}));
    v1::DriftScore score = ScoreOf(result, ScoreSpec{});
    severity = Worse(severity, score.severity());
    *drift.add_scores() = std::move(score);
    scored.verdict = std::move(result);
  }
  const DriftResult& verdict = *scored.verdict;
  drift.set_column_type(KindName(verdict.column_kind));
  drift.set_status(!verdict.enough_data ? v1::DRIFT_STATUS_NOT_ENOUGH_DATA
                   : verdict.drifted    ? v1::DRIFT_STATUS_DRIFTED
                                        : v1::DRIFT_STATUS_NO_DRIFT);
  drift.set_severity(severity);
  return scored;
}

}  // namespace fabrique::monitoring
