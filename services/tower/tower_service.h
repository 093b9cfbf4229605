#ifndef FABRIQUE_SERVICES_TOWER_TOWER_SERVICE_H_
#define FABRIQUE_SERVICES_TOWER_TOWER_SERVICE_H_

// The gRPC adapter of `fabrique::v1::Tower`. It will validate, call the domain core, map the
// status and record metrics, as every adapter does; the control tower's calls are not built
// yet. Until they are, every call answers UNIMPLEMENTED with a message naming the tower (see
// libs/server/not_built_interceptor.h), never a fake success. Each call, once built,
// first asks the access guard main.cc builds (libs/server/access.h) under its rule in
// libs/auth/tables/tower.cc.

#include "fabrique/v1/tower.grpc.pb.h"

namespace fabrique::services {

class TowerService final : public fabrique::v1::Tower::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_TOWER_SERVICE_H_
