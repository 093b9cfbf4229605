#include "services/monitor/monitor_metrics.h"

namespace fabrique::services {

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
                             .Add({})) {}

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

// Not published yet: the report and alert gauges are filled by the report core.
void MonitorMetrics::PublishDrift(const v1::DriftReport&) {}
void MonitorMetrics::PublishPerformance(const v1::PerformanceReport&) {}
void MonitorMetrics::SetAlertsFiring(absl::string_view, v1::Severity, int64_t) {}

}  // namespace fabrique::services
