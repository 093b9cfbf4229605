#ifndef FABRIQUE_SERVICES_MONITOR_MONITOR_SERVICE_H_
#define FABRIQUE_SERVICES_MONITOR_MONITOR_SERVICE_H_

// The gRPC adapter of `fabrique::v1::Monitor`. It will validate, call the domain core, map the
// status and record metrics, as every adapter does; the monitor's calls are not built yet. Until
// they are, every call answers UNIMPLEMENTED with a message naming the monitor (see
// libs/server/not_built_interceptor.h), never a fake success. Each call, once built,
// first asks the access guard main.cc builds (libs/server/access.h) under its rule in
// libs/auth/tables/monitor.cc.

#include "fabrique/v1/monitor.grpc.pb.h"

namespace fabrique::services {

class MonitorService final : public fabrique::v1::Monitor::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MONITOR_SERVICE_H_
