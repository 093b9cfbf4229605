#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_RULES_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_RULES_H_

// What a policy makes of one evaluation of a model version: which conditions hold (alerts to
// raise), which it could not judge (not enough data: such alerts are neither raised nor
// resolved), and which kinds it did judge (their open alerts not raised again are resolved).
// Pure: no storage, no clock, so every rule is tested on plain messages.
//
//   FEATURE_DRIFT     an input the policy watches whose drift severity is WARNING or worse
//   PREDICTION_DRIFT  the same for an output, when a threshold includes predictions
//   PERFORMANCE       a floor not met, with at least min_labelled joined outcomes (CRITICAL)
//   DATA_QUALITY      an input's missing rate above its reference rate plus the policy's limit
//   NO_TRAFFIC        no prediction for no_traffic_after

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/alerts/alert_store.h"

namespace fabrique::monitoring {

struct EvaluationInput {
  std::string model;
  int64_t version = 0;
  v1::MonitoringPolicy policy;
  const v1::DriftReport* drift = nullptr;              // Not computed: nullptr.
  const v1::PerformanceReport* performance = nullptr;  // Not computed: nullptr.
  // The version's last prediction; InfinitePast when unknown.
  absl::Time last_prediction_time = absl::InfinitePast();
  absl::Time now;
};

struct Evaluation {
  std::vector<AlertFinding> raised;
  // Conditions without a verdict: their open alerts stay as they are.
  std::vector<AlertCondition> unknown;
  // Kinds this evaluation judged: their open alerts neither raised nor unknown resolve.
  std::vector<v1::AlertKind> judged;
  // Whether the drift report had enough data for a verdict, and whether it drifted at the
  // retrain trigger's severity (for the consecutive-window count).
  bool drift_judged = false;
  bool drifted = false;
  // A performance floor was breached with enough labels.
  bool performance_breached = false;
};

Evaluation EvaluatePolicy(const EvaluationInput& input);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_RULES_H_
