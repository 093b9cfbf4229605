#include "libs/monitoring/report/report_from_protos.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/monitoring/report/profile_distribution.h"

namespace fabrique::monitoring::report {
namespace {

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

FeatureKind KindOf(const v1::FeatureDrift& feature) {
  if (feature.column_type() == "numeric") return FeatureKind::kNumeric;
  if (feature.column_type() == "binary") return FeatureKind::kBinary;
  if (feature.column_type() == "categorical") return FeatureKind::kCategorical;
  return feature.reference().has_numeric() || feature.live().has_numeric()
             ? FeatureKind::kNumeric
             : FeatureKind::kCategorical;
}

}  // namespace

bool MetricHigherIsBetter(const v1::Metric& metric) {
  const absl::string_view name = metric.name();
  static const auto* const kLower = new std::vector<absl::string_view>{
      "rmse", "mae", "mse", "log_loss", "logloss", "ece", "brier", "mape"};
  static const auto* const kHigher = new std::vector<absl::string_view>{
      "auc", "accuracy", "f1", "macro_f1", "precision", "recall", "r2", "average_precision"};
  if (std::find(kLower->begin(), kLower->end(), name) != kLower->end()) return false;
  if (std::find(kHigher->begin(), kHigher->end(), name) != kHigher->end()) return true;
  return metric.higher_is_better();
}

namespace {

// How much worse `live` is than `trained`, as a share of the training figure (> 0: worse).
double Shortfall(double live, double trained, bool higher_is_better) {
  const double scale = std::abs(trained) > 0 ? std::abs(trained) : 1;
  return (higher_is_better ? trained - live : live - trained) / scale;
}

std::vector<MetricSeries> SeriesOf(const v1::PerformanceReport& report) {
  std::map<std::string, double> training;
  for (const v1::Metric& m : report.training_metrics()) training.emplace(m.name(), m.value());
  std::vector<MetricSeries> all;
  for (const v1::Metric& metric : report.metrics()) {
    MetricSeries series;
    series.metric = metric.name();
    series.higher_is_better = MetricHigherIsBetter(metric);
    if (auto it = training.find(metric.name()); it != training.end()) {
      series.training_value = it->second;
    } else if (metric.has_baseline()) {
      series.training_value = metric.baseline().value();
    }
    for (const v1::PerformanceBucket& bucket : report.buckets()) {
      for (const v1::Metric& m : bucket.metrics()) {
        if (m.name() != metric.name()) continue;
        series.points.push_back(
            {TimeOf(bucket.window().start_time()), m.value(), bucket.labelled_count()});
      }
    }
    // No series asked for: the period's figure as one point.
    if (report.buckets().empty()) {
      series.points.push_back(
          {TimeOf(report.window().start_time()), metric.value(), report.labelled_count()});
    }
    all.push_back(std::move(series));
  }
  return all;
}

// The metrics worse than at training beyond the tolerance, on enough labels.
std::vector<const v1::Metric*> DegradedMetrics(const v1::PerformanceReport& report,
                                               const std::vector<MetricSeries>& series,
                                               double tolerance) {
  std::vector<const v1::Metric*> degraded;
  if (!report.sufficient_labels()) return degraded;
  for (int i = 0; i < report.metrics_size(); ++i) {
    const MetricSeries& s = series[i];
    if (!s.training_value.has_value() || !std::isfinite(report.metrics(i).value())) continue;
    if (Shortfall(report.metrics(i).value(), *s.training_value, s.higher_is_better) > tolerance) {
      degraded.push_back(&report.metrics(i));
    }
  }
  return degraded;
}

// The start of the last run of buckets whose metric fell below training beyond the tolerance.
std::optional<absl::Time> DegradedSince(const std::vector<MetricSeries>& series, double tolerance) {
  std::optional<absl::Time> since;
  for (const MetricSeries& s : series) {
    if (!s.training_value.has_value()) continue;
    std::optional<absl::Time> run;
    for (const PerformancePoint& p : s.points) {
      const bool below = Shortfall(p.value, *s.training_value, s.higher_is_better) > tolerance;
      if (!below) run.reset();
      if (below && !run.has_value()) run = p.window_start;
    }
    if (run.has_value() && (!since.has_value() || *run < *since)) since = run;
  }
  return since;
}

// The oldest fire time of the firing alerts of `kinds` (all kinds when empty).
std::optional<absl::Time> OldestAlert(const std::vector<v1::Alert>& alerts,
                                      const std::vector<v1::AlertKind>& kinds) {
  std::optional<absl::Time> oldest;
  for (const v1::Alert& alert : alerts) {
    if (alert.state() != v1::ALERT_STATE_FIRING || !alert.has_fire_time()) continue;
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), alert.kind()) == kinds.end()) {
      continue;
    }
    const absl::Time t = TimeOf(alert.fire_time());
    if (!oldest.has_value() || t < *oldest) oldest = t;
  }
  return oldest;
}

std::string Names(const std::vector<std::string>& names, size_t at_most) {
  std::vector<std::string> shown(
      names.begin(), names.begin() + static_cast<long>(std::min(at_most, names.size())));
  std::string text = absl::StrJoin(shown, ", ");
  if (names.size() > at_most) absl::StrAppend(&text, " and ", names.size() - at_most, " more");
  return text;
}

// What the verdict is read from.
struct Facts {
  std::vector<std::string> drifted;         // Columns that drifted.
  int with_enough_data = 0;                 // Columns with a verdict.
  std::vector<const v1::Metric*> degraded;  // Live metrics below training.
  bool labelled = false;                    // Enough labels for the metrics to count.
  bool severe = false;                      // The performance report's severity, on enough labels.
  int64_t labels = 0;
};

Facts Gather(const ReportProtos& protos, const ReportFromProtosOptions& options,
             const ReportModel& model) {
  Facts facts;
  for (const FeatureReport& f : model.features) {
    if (f.enough_data) ++facts.with_enough_data;
    if (f.enough_data && f.drifted) facts.drifted.push_back(f.name);
  }
  if (!protos.performance.has_value()) return facts;
  const v1::PerformanceReport& performance = *protos.performance;
  facts.labelled = performance.sufficient_labels();
  facts.degraded = DegradedMetrics(performance, model.performance, options.degradation_tolerance);
  facts.severe = facts.labelled && performance.severity() >= v1::SEVERITY_WARNING;
  facts.labels = performance.labelled_count();
  return facts;
}

// Sets health, reason and since from the features and performance already filled.
void Judge(const ReportProtos& protos, const ReportFromProtosOptions& options, ReportModel* model) {
  const Facts facts = Gather(protos, options, *model);
  if (!facts.degraded.empty() || facts.severe) {
    model->health = Health::kDegraded;
    std::vector<std::string> words;
    for (const v1::Metric* m : facts.degraded) words.push_back(m->name());
    model->health_reason =
        facts.degraded.empty()
            ? absl::StrCat("The live metrics breach the monitoring policy's thresholds on ",
                           facts.labels, " labelled predictions.")
            : absl::StrCat("Below the training figure on ", facts.labels,
                           " labelled predictions: ", Names(words, 4), ".");
    model->health_since = OldestAlert(protos.alerts, {v1::ALERT_KIND_PERFORMANCE});
    if (!model->health_since.has_value()) {
      model->health_since = DegradedSince(model->performance, options.degradation_tolerance);
    }
  } else if (!facts.drifted.empty()) {
    model->health = Health::kDrifting;
    model->health_reason =
        absl::StrCat("Drifted from training: ", Names(facts.drifted, 6), ".",
                     facts.labelled ? " Performance on the labelled predictions still holds." : "");
    model->health_since =
        OldestAlert(protos.alerts, {v1::ALERT_KIND_FEATURE_DRIFT, v1::ALERT_KIND_PREDICTION_DRIFT});
  } else if (facts.with_enough_data == 0 && !facts.labelled) {
    model->health = Health::kNotEnoughData;
    const int64_t predictions = protos.drift.has_value() ? protos.drift->prediction_count() : 0;
    model->health_reason =
        protos.drift.has_value() && protos.drift->no_reference()
            ? "This version has no reference profile to compare with."
            : absl::StrCat(predictions, " predictions in the period: too few for a verdict.");
  } else {
    model->health = Health::kHealthy;
    model->health_reason =
        facts.labelled
            ? absl::StrCat("Every feature is within its threshold and performance holds on ",
                           facts.labels, " labelled predictions.")
            : "Every feature is within its threshold; too few outcomes yet to judge "
              "performance.";
  }
}

}  // namespace

absl::string_view DriftMetricName(v1::DriftMetric metric) {
  switch (metric) {
    case v1::DRIFT_METRIC_PSI:
      return "psi";
    case v1::DRIFT_METRIC_KS:
      return "ks";
    case v1::DRIFT_METRIC_JS:
      return "jensenshannon";
    case v1::DRIFT_METRIC_CHI_SQUARED:
      return "chisquare";
    case v1::DRIFT_METRIC_OUT_OF_RANGE:
      return "out_of_range";
    case v1::DRIFT_METRIC_WASSERSTEIN:
      return "wasserstein";
    case v1::DRIFT_METRIC_Z_TEST:
      return "z";
    case v1::DRIFT_METRIC_AUTO:
      return "auto";
    default:
      return "unknown";
  }
}

absl::string_view SeverityName(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_CRITICAL:
      return "critical";
    case v1::SEVERITY_WARNING:
      return "warning";
    case v1::SEVERITY_INFO:
      return "info";
    case v1::SEVERITY_OK:
      return "ok";
    default:
      return "unknown";
  }
}

absl::Duration PerformanceBucketFor(absl::Time from, absl::Time to) {
  const absl::Duration span = to - from;
  for (absl::Duration width :
       {absl::Minutes(5), absl::Minutes(15), absl::Hours(1), absl::Hours(6), absl::Hours(24)}) {
    if (span <= width * 60) return width;
  }
  return absl::Hours(24 * 7);
}

FeatureReport FeatureFromDrift(const v1::FeatureDrift& feature, size_t max_categories) {
  FeatureReport f;
  f.name = feature.name();
  f.kind = KindOf(feature);
  f.reference_missing_rate = feature.reference_missing_rate();
  f.current_missing_rate = feature.missing_rate();
  f.distribution = DistributionFromProfiles(feature.reference(), feature.live(), max_categories);
  if (feature.scores().empty()) {
    f.enough_data = false;
    return f;
  }
  const v1::DriftScore& score = feature.scores(0);
  f.test = std::string(DriftMetricName(score.metric()));
  f.statistic = score.value();
  if (score.has_p_value()) f.p_value = score.p_value().value();
  f.threshold = score.threshold();
  const bool by_p_value = score.drift_when() == v1::DRIFT_WHEN_P_VALUE_BELOW ||
                          (score.drift_when() == v1::DRIFT_WHEN_UNSPECIFIED && score.has_p_value());
  f.drift_when = by_p_value ? DriftWhen::kPValueBelow : DriftWhen::kStatisticAtLeast;
  switch (feature.status()) {
    case v1::DRIFT_STATUS_UNSPECIFIED:
      f.drifted = score.drifted();
      f.enough_data = score.enough_data();
      break;
    case v1::DRIFT_STATUS_DRIFTED:
      f.drifted = true;
      break;
    case v1::DRIFT_STATUS_NO_DRIFT:
      break;
    default:  // NOT_ENOUGH_DATA, NO_REFERENCE: no verdict.
      f.enough_data = false;
      break;
  }
  return f;
}

ReportModel ReportFromProtos(const ReportProtos& protos, const ReportFromProtosOptions& options) {
  ReportModel model;
  model.model = protos.model;
  model.generated_at = protos.generated_at;
  model.period_from = protos.from;
  model.period_to = protos.to;
  const v1::TimeRange* window = protos.drift.has_value()         ? &protos.drift->window()
                                : protos.performance.has_value() ? &protos.performance->window()
                                                                 : nullptr;
  if (protos.from == absl::InfinitePast() && window != nullptr) {
    model.period_from = TimeOf(window->start_time());
    model.period_to = TimeOf(window->end_time());
  }
  if (protos.drift.has_value()) {
    if (protos.drift->model_version().version() > 0) {
      model.versions.push_back(absl::StrCat(protos.drift->model_version().version()));
    }
    for (const v1::FeatureDrift& f : protos.drift->features()) {
      model.features.push_back(FeatureFromDrift(f, options.max_categories));
    }
    for (const v1::FeatureDrift& f : protos.drift->predictions()) {
      model.features.push_back(FeatureFromDrift(f, options.max_categories));
      model.features.back().name = absl::StrCat("prediction: ", f.name());
    }
  }
  if (protos.performance.has_value()) {
    const std::string version = absl::StrCat(protos.performance->model_version().version());
    if (protos.performance->model_version().version() > 0 &&
        std::find(model.versions.begin(), model.versions.end(), version) == model.versions.end()) {
      model.versions.push_back(version);
    }
    model.performance = SeriesOf(*protos.performance);
  }
  for (const v1::Alert& alert : protos.alerts) {
    if (alert.state() != v1::ALERT_STATE_FIRING) continue;
    model.alerts.push_back(
        {alert.id(), std::string(SeverityName(alert.severity())), alert.summary()});
  }
  Judge(protos, options, &model);
  return model;
}

}  // namespace fabrique::monitoring::report
