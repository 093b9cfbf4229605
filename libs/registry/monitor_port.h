#ifndef FABRIQUE_LIBS_REGISTRY_MONITOR_PORT_H_
#define FABRIQUE_LIBS_REGISTRY_MONITOR_PORT_H_

// How the registry asks the monitor whether a candidate does as well as the version an alias
// holds, on live traffic, for a promotion policy's MonitorComparisonGate. The registry's domain
// sees only this port; the service implements it with the monitor's CompareCanary.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "fabrique/v1/registry.pb.h"

namespace fabrique::registry {

// One comparison asked for: `candidate_version` against `primary_version` of `model`, as
// `gate` says (metric, allowance, labelled predictions each side needs, window ending now).
struct MonitorComparisonQuery {
  std::string model;
  int64_t candidate_version = 0;
  int64_t primary_version = 0;
  v1::MonitorComparisonGate gate;
};

// The monitor's answer.
struct MonitorComparisonAnswer {
  // Both sides have the labelled predictions the gate asks for.
  bool enough_data = false;
  // enough_data, and the candidate is not worse by more than the allowance.
  bool candidate_not_worse = false;
  // The monitor's one line, e.g. "WORSE: candidate auc 0.81 vs primary auc 0.84: ...".
  std::string verdict;
  // The comparison's id at the monitor.
  std::string report_id;
};

class MonitorPort {
 public:
  virtual ~MonitorPort() = default;

  // The comparison. UNAVAILABLE or DEADLINE_EXCEEDED when the monitor could not be reached (the
  // gate waits); any other error is the monitor refusing the question (the gate fails).
  virtual absl::StatusOr<MonitorComparisonAnswer> Compare(
      const MonitorComparisonQuery& query) const = 0;
};

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_MONITOR_PORT_H_
