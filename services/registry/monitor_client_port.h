#ifndef FABRIQUE_SERVICES_REGISTRY_MONITOR_CLIENT_PORT_H_
#define FABRIQUE_SERVICES_REGISTRY_MONITOR_CLIENT_PORT_H_

// The registry's MonitorPort (libs/registry/monitor_port.h) on the real monitor: each question is
// one CompareCanary call through libs/client's typed client, as the registry's own identity, with
// the client's deadline. The gate's window becomes the period ending now.

#include "libs/client/typed_clients.h"
#include "libs/core/clock.h"
#include "libs/registry/monitor_port.h"

namespace fabrique::services {

class MonitorClientPort final : public registry::MonitorPort {
 public:
  // `clock` (not owned; nullptr = the real clock) dates the windows asked for.
  explicit MonitorClientPort(client::MonitorClient monitor, const core::Clock* clock = nullptr);

  // The monitor's comparison. The client's errors as they come: UNAVAILABLE or
  // DEADLINE_EXCEEDED when the monitor could not be reached, the monitor's own otherwise.
  absl::StatusOr<registry::MonitorComparisonAnswer> Compare(
      const registry::MonitorComparisonQuery& query) const override;

 private:
  const client::MonitorClient monitor_;
  const core::Clock* const clock_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_REGISTRY_MONITOR_CLIENT_PORT_H_
