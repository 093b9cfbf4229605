#ifndef FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
#define FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_

// The gRPC adapter of `fabrique::v1::Trainer`. It will validate, call the domain core, map the
// status and record metrics, as every adapter does; its calls are built with the trainer (issue 5).
// Until then every call answers UNIMPLEMENTED with a message naming that work (see
// libs/server/not_built_interceptor.h), never a fake success.

#include "fabrique/v1/trainer.grpc.pb.h"

namespace fabrique::services {

class TrainerService final : public fabrique::v1::Trainer::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
