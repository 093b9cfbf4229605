#ifndef FABRIQUE_SERVICES_MONITOR_MONITOR_METRICS_H_
#define FABRIQUE_SERVICES_MONITOR_MONITOR_METRICS_H_

// The monitor's Prometheus metrics. The outcome labels of one family do not overlap, so they sum
// to every record (or outcome) received:
//   fabrique_monitor_predictions_total{outcome=accepted|duplicate|rejected|unknown_version}
//   fabrique_monitor_outcomes_total{outcome=matched|pending|duplicate|rejected}
//   fabrique_monitor_outcomes_pending                 outcomes waiting for their prediction now
//   fabrique_monitor_outcomes_joined_late_total       pending outcomes joined when it came
//   fabrique_monitor_registry_lookups_failed_total    models taken as known: registry away
// A replayed batch answers its first result and counts again, as the sender sent it again.
//
// Gauges of the latest reports, per model version (deploy/prometheus/monitor_rules.yaml alerts
// on them):
//   fabrique_monitor_drift_statistic{model,version,feature,kind,test}  each test's statistic
//   fabrique_monitor_drift_p_value{model,version,feature,kind,test}    for tests with one
//   fabrique_monitor_drift_detected{model,version,feature,kind}        the column's verdict, 0/1
//   fabrique_monitor_dataset_drift_share{model,version}                drifted / evaluated inputs
//   fabrique_monitor_dataset_drift_detected{model,version}             share >= the policy's, 0/1
//   fabrique_monitor_window_predictions{model,version}                 predictions in the window
//   fabrique_monitor_performance{model,version,metric,better}          live metric
//   fabrique_monitor_training_performance{model,version,metric,better} the same at training
//   fabrique_monitor_label_coverage{model,version}                     labelled / predicted, 0..1
//   fabrique_monitor_labelled_predictions{model,version}               predictions with outcomes
//   fabrique_monitor_sufficient_labels{model,version}                  enough for the policy, 0/1
//   fabrique_monitor_alerts_firing{model,severity}                     monitor alerts firing now
// kind is "input" (a feature) or "output" (a prediction); better is "higher" or "lower", so
// rules can tell a drop from a rise. A column without enough data has a verdict of 0 and no
// statistic. A newer report of a version replaces all of that version's series: a feature it no
// longer reports disappears rather than keep a stale value.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/intake/intake_results.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fabrique::services {

class MonitorMetrics {
 public:
  // Registers the metrics in `registry`, which must outlive this.
  explicit MonitorMetrics(prometheus::Registry& registry);

  void RecordPredictions(const monitoring::PredictionIntakeResult& result);
  void RecordOutcomes(const monitoring::OutcomeIntakeResult& result);
  void SetPendingOutcomes(int64_t count) { pending_.Set(static_cast<double>(count)); }
  void RegistryLookupFailed() { registry_failures_.Increment(); }

  // Gauges of the latest report of a model version, labelled model, version and feature (or
  // metric): drift statistic, drifted flag, p-value; performance by metric, label coverage,
  // prediction volume. A newer report replaces the older one's values.
  void PublishDrift(const v1::DriftReport& report);
  void PublishPerformance(const v1::PerformanceReport& report);
  // Removes the report series of every version not in `active` (the versions with predictions
  // in the evaluation's lookback), so that a model retrained daily does not export one more set
  // of gauges per feature each day for as long as the monitor runs.
  void RetainVersions(const std::vector<std::pair<std::string, int64_t>>& active);
  // Alerts firing now for `model` at `severity`.
  void SetAlertsFiring(absl::string_view model, v1::Severity severity, int64_t count);

 private:
  using GaugeFamily = prometheus::Family<prometheus::Gauge>;
  // The series one report set, to remove those the next report of the version leaves out.
  using Series = std::vector<std::pair<GaugeFamily*, prometheus::Gauge*>>;
  using VersionKey = std::pair<std::string, int64_t>;

  // Sets `family`{labels} to `value` and adds it to `series`.
  static void Set(GaugeFamily& family, const prometheus::Labels& labels, double value,
                  Series* series);
  // Replaces the series kept under `key` in `kept` by `now`, removing those `now` lacks.
  static void Replace(std::map<VersionKey, Series>* kept, const VersionKey& key, Series now);
  void AddColumn(const v1::FeatureDrift& column, const prometheus::Labels& version_labels,
                 const char* kind, Series* series);

  prometheus::Family<prometheus::Counter>& predictions_;
  prometheus::Counter& predictions_accepted_;
  prometheus::Counter& predictions_duplicate_;
  prometheus::Counter& predictions_rejected_;
  prometheus::Counter& predictions_unknown_version_;
  prometheus::Family<prometheus::Counter>& outcomes_;
  prometheus::Counter& outcomes_matched_;
  prometheus::Counter& outcomes_pending_;
  prometheus::Counter& outcomes_duplicate_;
  prometheus::Counter& outcomes_rejected_;
  prometheus::Gauge& pending_;
  prometheus::Counter& joined_late_;
  prometheus::Counter& registry_failures_;
  GaugeFamily& drift_statistic_;
  GaugeFamily& drift_p_value_;
  GaugeFamily& drift_detected_;
  GaugeFamily& dataset_drift_share_;
  GaugeFamily& dataset_drift_detected_;
  GaugeFamily& window_predictions_;
  GaugeFamily& performance_;
  GaugeFamily& training_performance_;
  GaugeFamily& label_coverage_;
  GaugeFamily& labelled_;
  GaugeFamily& sufficient_labels_;
  GaugeFamily& alerts_firing_;

  absl::Mutex mu_;
  std::map<VersionKey, Series> drift_series_ ABSL_GUARDED_BY(mu_);
  std::map<VersionKey, Series> performance_series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MONITOR_METRICS_H_
