#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_POLICY_VALIDATION_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_POLICY_VALIDATION_H_

// What a monitoring policy must satisfy to be stored, and the defaults its zero fields stand
// for. A policy that can never behave as written (a p-value threshold of 2, a critical threshold
// laxer than its warning, an AUC floor of 1.3) is refused when it is set, naming the field,
// rather than evaluated silently wrong for months.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"

namespace fabrique::monitoring {

// Defaults of a policy's zero fields (monitor.proto).
inline constexpr absl::Duration kDefaultPolicyWindow = absl::Hours(1);
inline constexpr absl::Duration kDefaultEvaluationInterval = absl::Minutes(5);
inline constexpr double kDefaultDatasetDriftShare = 0.5;

// OK, or INVALID_ARGUMENT whose message names the first offending field ("policy.drift[0].
// critical_threshold ...") and what would be valid.
absl::Status ValidatePolicy(const v1::MonitoringPolicy& policy);

// The policy used when neither the model nor the platform set one: one-hour windows evaluated
// every five minutes, Evidently's AUTO test on every input, no floors, no retrain.
v1::MonitoringPolicy BuiltInPolicy();

// The window and interval a policy means, its zero fields replaced by the defaults.
absl::Duration PolicyWindow(const v1::MonitoringPolicy& policy);
absl::Duration PolicyEvaluationInterval(const v1::MonitoringPolicy& policy);

// Whether `p-value` style metrics (KS, chi-square, Z and AUTO) read thresholds as p-values.
bool IsPValueMetric(v1::DriftMetric metric);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_POLICY_VALIDATION_H_
