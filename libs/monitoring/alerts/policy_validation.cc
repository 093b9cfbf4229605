#include "libs/monitoring/alerts/policy_validation.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/monitoring/alerts/proto_time.h"

namespace fabrique::monitoring {
namespace {

// Largest Jensen-Shannon distance with natural logarithms: sqrt(ln 2).
const double kMaxJensenShannon = std::sqrt(std::log(2.0));

absl::Status Invalid(const std::string& field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("policy.", field, " ", why));
}

absl::Status NotNegative(const std::string& field, const google::protobuf::Duration& value) {
  if (FromProtoDuration(value) >= absl::ZeroDuration()) return absl::OkStatus();
  return Invalid(field,
                 absl::StrCat("is negative (", absl::FormatDuration(FromProtoDuration(value)),
                              "); durations are >= 0, 0 = the default"));
}

absl::Status NotNegative(const std::string& field, int64_t value) {
  if (value >= 0) return absl::OkStatus();
  return Invalid(field, absl::StrCat("is negative (", value, "); counts are >= 0"));
}

// Thresholds of p-value tests: each in (0, 1), and critical the stricter (smaller) one.
absl::Status CheckPValueThresholds(const std::string& at, const v1::DriftThreshold& drift) {
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"warning_threshold", drift.warning_threshold()},
        {"critical_threshold", drift.critical_threshold()}}) {
    if (value == 0) continue;  // Off.
    if (!(value > 0 && value < 1)) {
      return Invalid(absl::StrCat(at, ".", name),
                     absl::StrCat(value, " is not a p-value threshold of ",
                                  v1::DriftMetric_Name(drift.metric()),
                                  ": it must lie in (0, 1), e.g. 0.05 (0 = off)"));
    }
  }
  if (drift.warning_threshold() != 0 && drift.critical_threshold() != 0 &&
      drift.critical_threshold() >= drift.warning_threshold()) {
    return Invalid(absl::StrCat(at, ".critical_threshold"),
                   absl::StrCat(drift.critical_threshold(), " must be below warning_threshold ",
                                drift.warning_threshold(), ": a smaller p-value is the stronger ",
                                "evidence, so the critical threshold is the smaller one"));
  }
  return absl::OkStatus();
}

// Thresholds of distances and PSI: each >= 0 (and within the metric's range), critical the
// larger one.
absl::Status CheckDistanceThresholds(const std::string& at, const v1::DriftThreshold& drift) {
  double max = HUGE_VAL;
  if (drift.metric() == v1::DRIFT_METRIC_JS) max = kMaxJensenShannon;
  if (drift.metric() == v1::DRIFT_METRIC_OUT_OF_RANGE) max = 1;
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"warning_threshold", drift.warning_threshold()},
        {"critical_threshold", drift.critical_threshold()}}) {
    if (!(value >= 0) || value > max) {
      return Invalid(absl::StrCat(at, ".", name), absl::StrCat(value, " is outside the range of ",
                                                               v1::DriftMetric_Name(drift.metric()),
                                                               " [0, ", max, "] (0 = off)"));
    }
  }
  if (drift.warning_threshold() != 0 && drift.critical_threshold() != 0 &&
      drift.critical_threshold() < drift.warning_threshold()) {
    return Invalid(
        absl::StrCat(at, ".critical_threshold"),
        absl::StrCat(drift.critical_threshold(), " must be at least warning_threshold ",
                     drift.warning_threshold(), ": a larger distance is the worse drift"));
  }
  return absl::OkStatus();
}

absl::Status CheckDrift(int index, const v1::DriftThreshold& drift) {
  const std::string at = absl::StrCat("drift[", index, "]");
  if (drift.metric() == v1::DRIFT_METRIC_UNSPECIFIED || !v1::DriftMetric_IsValid(drift.metric())) {
    return Invalid(absl::StrCat(at, ".metric"),
                   "is required: PSI, KS, JS, CHI_SQUARED, OUT_OF_RANGE, WASSERSTEIN, Z_TEST or "
                   "AUTO");
  }
  for (int f = 0; f < drift.features_size(); ++f) {
    if (drift.features(f).empty()) {
      return Invalid(absl::StrCat(at, ".features[", f, "]"), "is empty: name an input");
    }
  }
  return IsPValueMetric(drift.metric()) ? CheckPValueThresholds(at, drift)
                                        : CheckDistanceThresholds(at, drift);
}

// The range of each live metric the monitor computes; a floor outside it can never be met (or
// never be missed).
struct MetricRange {
  double min;
  double max;
};
const absl::flat_hash_map<std::string, MetricRange>& MetricRanges() {
  static const auto* const ranges = new absl::flat_hash_map<std::string, MetricRange>{
      {"auc", {0, 1}},         {"accuracy", {0, 1}},
      {"precision", {0, 1}},   {"recall", {0, 1}},
      {"f1", {0, 1}},          {"macro_f1", {0, 1}},
      {"ece", {0, 1}},         {"log_loss", {0, HUGE_VAL}},
      {"rmse", {0, HUGE_VAL}}, {"mae", {0, HUGE_VAL}},
      {"r2", {-HUGE_VAL, 1}},  {"label_coverage", {0, 1}},
  };
  return *ranges;
}

absl::Status CheckFloor(int index, const v1::MetricThreshold& floor) {
  const std::string at = absl::StrCat("performance[", index, "]");
  const auto& ranges = MetricRanges();
  auto it = ranges.find(floor.metric());
  if (it == ranges.end()) {
    return Invalid(absl::StrCat(at, ".metric"),
                   absl::StrCat("'", floor.metric(),
                                "' is not a live metric the monitor computes: auc, accuracy, "
                                "precision, recall, f1, macro_f1, ece, log_loss, rmse, mae, r2, "
                                "label_coverage"));
  }
  if (floor.op() == v1::COMPARISON_OP_UNSPECIFIED || !v1::ComparisonOp_IsValid(floor.op())) {
    return Invalid(absl::StrCat(at, ".op"),
                   "is required: GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL or EQUAL");
  }
  const MetricRange range = it->second;
  if (!(floor.value() >= range.min && floor.value() <= range.max)) {
    return Invalid(absl::StrCat(at, ".value"),
                   absl::StrCat(floor.value(), " is outside the range of ", floor.metric(), " [",
                                range.min, ", ", range.max, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckRetrain(const v1::RetrainTrigger& retrain) {
  if (retrain.consecutive_windows() < 0) {
    return Invalid("retrain.consecutive_windows",
                   absl::StrCat("is negative (", retrain.consecutive_windows(),
                                "); windows in a row that must drift, 0 = 1"));
  }
  return NotNegative("retrain.cooldown", retrain.cooldown());
}

}  // namespace

bool IsPValueMetric(v1::DriftMetric metric) {
  return metric == v1::DRIFT_METRIC_KS || metric == v1::DRIFT_METRIC_CHI_SQUARED ||
         metric == v1::DRIFT_METRIC_Z_TEST || metric == v1::DRIFT_METRIC_AUTO;
}

absl::Status ValidatePolicy(const v1::MonitoringPolicy& policy) {
  absl::Status status = NotNegative("window", policy.window());
  if (status.ok()) status = NotNegative("evaluation_interval", policy.evaluation_interval());
  if (status.ok()) status = NotNegative("no_traffic_after", policy.no_traffic_after());
  if (status.ok()) status = NotNegative("min_samples", policy.min_samples());
  if (status.ok()) status = NotNegative("min_labelled", policy.min_labelled());
  if (!status.ok()) return status;
  for (int i = 0; i < policy.drift_size(); ++i) {
    if (absl::Status drift = CheckDrift(i, policy.drift(i)); !drift.ok()) return drift;
  }
  for (int i = 0; i < policy.performance_size(); ++i) {
    if (absl::Status floor = CheckFloor(i, policy.performance(i)); !floor.ok()) return floor;
  }
  const double missing = policy.max_missing_rate_increase();
  if (!(missing >= 0 && missing <= 1)) {
    return Invalid("max_missing_rate_increase",
                   absl::StrCat(missing, " is not a rate increase in [0, 1] (0 = off)"));
  }
  const double share = policy.dataset_drift_share();
  if (!(share >= 0 && share <= 1)) {
    return Invalid("dataset_drift_share",
                   absl::StrCat(share, " is not a share of drifted inputs in (0, 1] (0 = 0.5)"));
  }
  return CheckRetrain(policy.retrain());
}

v1::MonitoringPolicy BuiltInPolicy() {
  v1::MonitoringPolicy policy;
  *policy.mutable_window() = ToProtoDuration(kDefaultPolicyWindow);
  *policy.mutable_evaluation_interval() = ToProtoDuration(kDefaultEvaluationInterval);
  v1::DriftThreshold* drift = policy.add_drift();
  drift->set_metric(v1::DRIFT_METRIC_AUTO);
  drift->set_include_predictions(true);
  policy.set_dataset_drift_share(kDefaultDatasetDriftShare);
  return policy;
}

absl::Duration PolicyWindow(const v1::MonitoringPolicy& policy) {
  const absl::Duration window = FromProtoDuration(policy.window());
  return window > absl::ZeroDuration() ? window : kDefaultPolicyWindow;
}

absl::Duration PolicyEvaluationInterval(const v1::MonitoringPolicy& policy) {
  const absl::Duration interval = FromProtoDuration(policy.evaluation_interval());
  return interval > absl::ZeroDuration() ? interval : kDefaultEvaluationInterval;
}

}  // namespace fabrique::monitoring
