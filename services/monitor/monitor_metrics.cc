#include "services/monitor/monitor_metrics.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/monitoring/report/report_from_protos.h"

namespace fabrique::services {
namespace {

prometheus::Family<prometheus::Gauge>& Gauges(prometheus::Registry& registry, const char* name,
                                              const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

// Whether larger values of `metric` are better, as the report page decides it.
const char* Better(const v1::Metric& metric) {
  return monitoring::report::MetricHigherIsBetter(metric) ? "higher" : "lower";
}

}  // namespace

MonitorMetrics::MonitorMetrics(prometheus::Registry& registry)
    : predictions_(prometheus::BuildCounter()
                       .Name("fabrique_monitor_predictions_total")
                       .Help("Prediction records received, by outcome: accepted (stored), "
                             "duplicate (prediction id already stored), rejected (refused, see "
                             "the call's errors), unknown_version (stored, flagged: the registry "
                             "does not know the model version).")
                       .Register(registry)),
      predictions_accepted_(predictions_.Add({{"outcome", "accepted"}})),
      predictions_duplicate_(predictions_.Add({{"outcome", "duplicate"}})),
      predictions_rejected_(predictions_.Add({{"outcome", "rejected"}})),
      predictions_unknown_version_(predictions_.Add({{"outcome", "unknown_version"}})),
      outcomes_(prometheus::BuildCounter()
                    .Name("fabrique_monitor_outcomes_total")
                    .Help("Outcomes (ground truth) received, by outcome: matched (joined to its "
                          "prediction), pending (waiting for it), duplicate (the prediction "
                          "already has one), rejected (refused, see the call's errors).")
                    .Register(registry)),
      outcomes_matched_(outcomes_.Add({{"outcome", "matched"}})),
      outcomes_pending_(outcomes_.Add({{"outcome", "pending"}})),
      outcomes_duplicate_(outcomes_.Add({{"outcome", "duplicate"}})),
      outcomes_rejected_(outcomes_.Add({{"outcome", "rejected"}})),
      pending_(prometheus::BuildGauge()
                   .Name("fabrique_monitor_outcomes_pending")
                   .Help("Outcomes waiting for their prediction, within the maximum label delay.")
                   .Register(registry)
                   .Add({})),
      joined_late_(prometheus::BuildCounter()
                       .Name("fabrique_monitor_outcomes_joined_late_total")
                       .Help("Pending outcomes joined when their prediction arrived.")
                       .Register(registry)
                       .Add({})),
      registry_failures_(prometheus::BuildCounter()
                             .Name("fabrique_monitor_registry_lookups_failed_total")
                             .Help("Model lookups the registry did not answer; records of those "
                                   "models were taken as known and labels checked by shape.")
                             .Register(registry)
                             .Add({})),
      drift_statistic_(Gauges(registry, "fabrique_monitor_drift_statistic",
                              "Drift statistic of a feature (kind=input) or output (kind=output) "
                              "in the latest drift report of the version, by test (Evidently's "
                              "names: ks, wasserstein, psi, jensenshannon, chisquare, z, "
                              "out_of_range). Absent without enough data.")),
      drift_p_value_(Gauges(registry, "fabrique_monitor_drift_p_value",
                            "p-value of the drift tests that have one (ks, chisquare, z), in the "
                            "latest drift report of the version.")),
      drift_detected_(Gauges(registry, "fabrique_monitor_drift_detected",
                             "1 when the column drifted in the latest drift report of the "
                             "version (its first test against its threshold), else 0.")),
      dataset_drift_share_(Gauges(registry, "fabrique_monitor_dataset_drift_share",
                                  "Share of the inputs with a verdict that drifted, 0..1, in the "
                                  "latest drift report of the version.")),
      dataset_drift_detected_(Gauges(registry, "fabrique_monitor_dataset_drift_detected",
                                     "1 when the share of drifted inputs reached the policy's "
                                     "dataset_drift_share in the latest report, else 0.")),
      window_predictions_(Gauges(registry, "fabrique_monitor_window_predictions",
                                 "Predictions of the version in the latest drift report's "
                                 "window.")),
      performance_(Gauges(registry, "fabrique_monitor_performance",
                          "Live metric of the version on the outcomes joined in the latest "
                          "performance report's window; better=higher|lower.")),
      training_performance_(Gauges(registry, "fabrique_monitor_training_performance",
                                   "The version's metric at training (validation split), beside "
                                   "fabrique_monitor_performance.")),
      label_coverage_(Gauges(registry, "fabrique_monitor_label_coverage",
                             "Share of the version's predictions with a joined outcome, 0..1, in "
                             "the latest performance report's window.")),
      labelled_(Gauges(registry, "fabrique_monitor_labelled_predictions",
                       "Predictions of the version with a joined outcome in the latest "
                       "performance report's window.")),
      sufficient_labels_(Gauges(registry, "fabrique_monitor_sufficient_labels",
                                "1 when the latest performance report had at least the policy's "
                                "min_labelled outcomes (its metrics count), else 0.")),
      alerts_firing_(Gauges(registry, "fabrique_monitor_alerts_firing",
                            "The monitor's alerts firing now for the model, by severity.")) {}

void MonitorMetrics::RecordPredictions(const monitoring::PredictionIntakeResult& result) {
  predictions_accepted_.Increment(static_cast<double>(result.accepted - result.unknown_version));
  predictions_unknown_version_.Increment(static_cast<double>(result.unknown_version));
  predictions_duplicate_.Increment(static_cast<double>(result.duplicates));
  predictions_rejected_.Increment(static_cast<double>(result.rejected));
  joined_late_.Increment(static_cast<double>(result.outcomes_joined));
}

void MonitorMetrics::RecordOutcomes(const monitoring::OutcomeIntakeResult& result) {
  outcomes_matched_.Increment(static_cast<double>(result.matched));
  outcomes_pending_.Increment(static_cast<double>(result.pending));
  outcomes_duplicate_.Increment(static_cast<double>(result.duplicates));
  outcomes_rejected_.Increment(static_cast<double>(result.rejected));
}

void MonitorMetrics::Set(GaugeFamily& family, const prometheus::Labels& labels, double value,
                         Series* series) {
  prometheus::Gauge& gauge = family.Add(labels);
  gauge.Set(value);
  series->emplace_back(&family, &gauge);
}

void MonitorMetrics::Replace(std::map<VersionKey, Series>* kept, const VersionKey& key,
                             Series now) {
  Series& old = (*kept)[key];
  for (const auto& [family, gauge] : old) {
    if (std::find(now.begin(), now.end(), std::make_pair(family, gauge)) == now.end()) {
      family->Remove(gauge);
    }
  }
  old = std::move(now);
}

void MonitorMetrics::RetainVersions(const std::vector<std::pair<std::string, int64_t>>& active) {
  const std::set<VersionKey> keep(active.begin(), active.end());
  absl::MutexLock lock(&mu_);
  for (std::map<VersionKey, Series>* kept : {&drift_series_, &performance_series_}) {
    for (auto it = kept->begin(); it != kept->end();) {
      if (keep.count(it->first) > 0) {
        ++it;
        continue;
      }
      for (const auto& [family, gauge] : it->second) family->Remove(gauge);
      it = kept->erase(it);
    }
  }
}

void MonitorMetrics::AddColumn(const v1::FeatureDrift& column,
                               const prometheus::Labels& version_labels, const char* kind,
                               Series* series) {
  prometheus::Labels labels = version_labels;
  labels["feature"] = column.name();
  labels["kind"] = kind;
  Set(drift_detected_, labels, column.status() == v1::DRIFT_STATUS_DRIFTED ? 1 : 0, series);
  for (const v1::DriftScore& score : column.scores()) {
    if (!score.enough_data() || !std::isfinite(score.value())) continue;
    prometheus::Labels test = labels;
    test["test"] = std::string(monitoring::report::DriftMetricName(score.metric()));
    Set(drift_statistic_, test, score.value(), series);
    if (score.has_p_value()) Set(drift_p_value_, test, score.p_value().value(), series);
  }
}

void MonitorMetrics::PublishDrift(const v1::DriftReport& report) {
  const VersionKey key{report.model_version().model(), report.model_version().version()};
  const prometheus::Labels labels = {{"model", key.first}, {"version", absl::StrCat(key.second)}};
  absl::MutexLock lock(&mu_);
  Series series;
  for (const v1::FeatureDrift& column : report.features()) {
    AddColumn(column, labels, "input", &series);
  }
  for (const v1::FeatureDrift& column : report.predictions()) {
    AddColumn(column, labels, "output", &series);
  }
  if (report.has_dataset_drift()) {
    Set(dataset_drift_share_, labels, report.dataset_drift().drifted_share(), &series);
    Set(dataset_drift_detected_, labels, report.dataset_drift().drifted() ? 1 : 0, &series);
  }
  Set(window_predictions_, labels, static_cast<double>(report.prediction_count()), &series);
  Replace(&drift_series_, key, std::move(series));
}

void MonitorMetrics::PublishPerformance(const v1::PerformanceReport& report) {
  const VersionKey key{report.model_version().model(), report.model_version().version()};
  const prometheus::Labels labels = {{"model", key.first}, {"version", absl::StrCat(key.second)}};
  absl::MutexLock lock(&mu_);
  Series series;
  for (const v1::Metric& metric : report.metrics()) {
    prometheus::Labels named = labels;
    named["metric"] = metric.name();
    named["better"] = Better(metric);
    Set(performance_, named, metric.value(), &series);
    // The training figure: training_metrics, else the metric's baseline, which a performance
    // report sets to it.
    const auto trained =
        std::find_if(report.training_metrics().begin(), report.training_metrics().end(),
                     [&](const v1::Metric& m) { return m.name() == metric.name(); });
    if (trained != report.training_metrics().end()) {
      Set(training_performance_, named, trained->value(), &series);
    } else if (metric.has_baseline()) {
      Set(training_performance_, named, metric.baseline().value(), &series);
    }
  }
  Set(label_coverage_, labels, report.label_coverage(), &series);
  Set(labelled_, labels, static_cast<double>(report.labelled_count()), &series);
  Set(sufficient_labels_, labels, report.sufficient_labels() ? 1 : 0, &series);
  Replace(&performance_series_, key, std::move(series));
}

void MonitorMetrics::SetAlertsFiring(absl::string_view model, v1::Severity severity,
                                     int64_t count) {
  alerts_firing_
      .Add({{"model", std::string(model)},
            {"severity", std::string(monitoring::report::SeverityName(severity))}})
      .Set(static_cast<double>(count));
}

}  // namespace fabrique::services
