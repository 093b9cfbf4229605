#include "libs/monitoring/alerts/alert_rules.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "libs/monitoring/alerts/proto_time.h"
#include "libs/registry/promotion_gates.h"

namespace fabrique::monitoring {
namespace {

std::string MetricName(v1::DriftMetric metric) {
  std::string name = v1::DriftMetric_Name(metric);
  absl::StrReplaceAll({{"DRIFT_METRIC_", ""}}, &name);
  return name;
}

std::string SeverityName(v1::Severity severity) {
  std::string name = v1::Severity_Name(severity);
  absl::StrReplaceAll({{"SEVERITY_", ""}}, &name);
  return absl::AsciiStrToLower(name);
}

// The threshold a score's severity was decided by, as "critical >= 0.25" or "warning < 0.05".
std::string ThresholdText(const v1::DriftScore& score) {
  const bool p_value = score.drift_when() == v1::DRIFT_WHEN_P_VALUE_BELOW || score.has_p_value();
  double threshold = score.threshold();
  if (score.severity() == v1::SEVERITY_CRITICAL && score.critical_threshold() != 0) {
    threshold = score.critical_threshold();
  } else if (score.severity() >= v1::SEVERITY_WARNING && score.warning_threshold() != 0) {
    threshold = score.warning_threshold();
  }
  return absl::StrFormat("%s %s %g", SeverityName(score.severity()),
                         p_value ? "<" : ">=", threshold);
}

// "KS p=0.0012 on amount (critical < 0.01)" or "PSI 0.31 on amount (warning >= 0.2)".
std::string DriftSummary(const v1::FeatureDrift& feature) {
  const v1::DriftScore* worst = nullptr;
  for (const v1::DriftScore& score : feature.scores()) {
    if (worst == nullptr || score.severity() > worst->severity()) worst = &score;
  }
  if (worst == nullptr) {
    return absl::StrCat("drift on ", feature.name(), " (", SeverityName(feature.severity()), ")");
  }
  const std::string value = worst->has_p_value()
                                ? absl::StrFormat("p=%.4g", worst->p_value().value())
                                : absl::StrFormat("%.4g", worst->value());
  return absl::StrCat(MetricName(worst->metric()), " ", value, " on ", feature.name(), " (",
                      ThresholdText(*worst), ")");
}

// Whether a threshold of `policy` watches input `name` (or outputs, when `output`).
bool Watched(const v1::MonitoringPolicy& policy, const std::string& name, bool output) {
  for (const v1::DriftThreshold& drift : policy.drift()) {
    if (output) {
      if (drift.include_predictions()) return true;
      continue;
    }
    if (drift.features().empty()) return true;
    if (std::find(drift.features().begin(), drift.features().end(), name) !=
        drift.features().end()) {
      return true;
    }
  }
  return false;
}

v1::Severity RetrainSeverity(const v1::MonitoringPolicy& policy) {
  return std::max(policy.retrain().min_severity(), v1::SEVERITY_WARNING);
}

void JudgeDrift(const EvaluationInput& in,
                const google::protobuf::RepeatedPtrField<v1::FeatureDrift>& columns,
                v1::AlertKind kind, Evaluation* out) {
  const bool output = kind == v1::ALERT_KIND_PREDICTION_DRIFT;
  for (const v1::FeatureDrift& column : columns) {
    if (!Watched(in.policy, column.name(), output)) continue;
    AlertCondition condition{in.model, in.version, kind, column.name()};
    if (column.status() == v1::DRIFT_STATUS_NOT_ENOUGH_DATA ||
        column.status() == v1::DRIFT_STATUS_NO_REFERENCE) {
      out->unknown.push_back(std::move(condition));
      continue;
    }
    if (column.severity() < v1::SEVERITY_WARNING) continue;
    AlertFinding finding;
    finding.condition = std::move(condition);
    finding.severity = column.severity();
    finding.summary = DriftSummary(column);
    finding.features = {column.name()};
    finding.report_id = in.drift->report_id();
    if (column.severity() >= RetrainSeverity(in.policy)) out->drifted = true;
    out->raised.push_back(std::move(finding));
  }
}

void JudgeMissingRates(const EvaluationInput& in, Evaluation* out) {
  const double limit = in.policy.max_missing_rate_increase();
  if (limit <= 0) return;
  out->judged.push_back(v1::ALERT_KIND_DATA_QUALITY);
  for (const v1::FeatureDrift& column : in.drift->features()) {
    const double increase = column.missing_rate() - column.reference_missing_rate();
    if (increase <= limit) continue;
    AlertFinding finding;
    finding.condition = {in.model, in.version, v1::ALERT_KIND_DATA_QUALITY, column.name()};
    finding.severity = v1::SEVERITY_WARNING;
    finding.summary = absl::StrFormat("missing rate %.3g on %s (reference %.3g, allowed +%g)",
                                      column.missing_rate(), column.name(),
                                      column.reference_missing_rate(), limit);
    finding.features = {column.name()};
    finding.report_id = in.drift->report_id();
    out->raised.push_back(std::move(finding));
  }
}

void JudgePerformance(const EvaluationInput& in, Evaluation* out) {
  if (in.policy.performance().empty()) return;
  const v1::PerformanceReport& report = *in.performance;
  const bool enough =
      report.sufficient_labels() && report.labelled_count() >= in.policy.min_labelled();
  if (enough) out->judged.push_back(v1::ALERT_KIND_PERFORMANCE);
  for (const v1::MetricThreshold& floor : in.policy.performance()) {
    AlertCondition condition{in.model, in.version, v1::ALERT_KIND_PERFORMANCE, floor.metric()};
    std::optional<double> value;
    if (floor.metric() == "label_coverage") value = report.label_coverage();
    for (const v1::Metric& metric : report.metrics()) {
      if (metric.name() == floor.metric()) value = metric.value();
    }
    if (!enough || !value.has_value() || std::isnan(*value)) {
      out->unknown.push_back(std::move(condition));
      continue;
    }
    if (registry::MetricHolds(*value, floor.op(), floor.value())) continue;
    AlertFinding finding;
    finding.condition = std::move(condition);
    finding.severity = v1::SEVERITY_CRITICAL;
    finding.summary =
        absl::StrFormat("%s %.4g on %d labelled predictions (floor %s %s %g)", floor.metric(),
                        *value, report.labelled_count(), floor.metric(),
                        registry::ComparisonText(floor.op()), floor.value());
    finding.report_id = report.report_id();
    out->performance_breached = true;
    out->raised.push_back(std::move(finding));
  }
}

void JudgeTraffic(const EvaluationInput& in, Evaluation* out) {
  const absl::Duration after = FromProtoDuration(in.policy.no_traffic_after());
  if (after <= absl::ZeroDuration() || in.last_prediction_time == absl::InfinitePast()) return;
  out->judged.push_back(v1::ALERT_KIND_NO_TRAFFIC);
  const absl::Duration quiet = in.now - in.last_prediction_time;
  if (quiet < after) return;
  AlertFinding finding;
  finding.condition = {in.model, in.version, v1::ALERT_KIND_NO_TRAFFIC, ""};
  finding.severity = v1::SEVERITY_WARNING;
  finding.summary =
      absl::StrCat("no prediction for ", absl::FormatDuration(absl::Trunc(quiet, absl::Seconds(1))),
                   " (allowed ", absl::FormatDuration(after), ")");
  out->raised.push_back(std::move(finding));
}

}  // namespace

Evaluation EvaluatePolicy(const EvaluationInput& in) {
  Evaluation out;
  // Too few predictions in the window: the drift scores are indicative, nothing is decided.
  if (in.drift != nullptr && in.drift->sufficient_data() && !in.drift->no_reference()) {
    out.drift_judged = true;
    out.judged.push_back(v1::ALERT_KIND_FEATURE_DRIFT);
    out.judged.push_back(v1::ALERT_KIND_PREDICTION_DRIFT);
    JudgeDrift(in, in.drift->features(), v1::ALERT_KIND_FEATURE_DRIFT, &out);
    JudgeDrift(in, in.drift->predictions(), v1::ALERT_KIND_PREDICTION_DRIFT, &out);
    JudgeMissingRates(in, &out);
  }
  if (in.performance != nullptr) JudgePerformance(in, &out);
  JudgeTraffic(in, &out);
  return out;
}

}  // namespace fabrique::monitoring
