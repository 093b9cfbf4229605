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

#include <cstdint>

#include "absl/strings/string_view.h"
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
  // Alerts firing now for `model` at `severity`.
  void SetAlertsFiring(absl::string_view model, v1::Severity severity, int64_t count);

 private:
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
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MONITOR_METRICS_H_
