#ifndef FABRIQUE_LIBS_CLIENT_TYPED_CLIENTS_H_
#define FABRIQUE_LIBS_CLIENT_TYPED_CLIENTS_H_

// The typed clients of the services that other services and the CLI call.

#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/inference.grpc.pb.h"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "fabrique/v1/tower.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "libs/client/service_client.h"

namespace fabrique::client {

using FeaturesClient = ServiceClient<v1::FeatureStore>;
using RegistryClient = ServiceClient<v1::ModelRegistry>;
using TrainerClient = ServiceClient<v1::Trainer>;
using MonitorClient = ServiceClient<v1::Monitor>;
using TowerClient = ServiceClient<v1::Tower>;
using EntityInferenceClient = ServiceClient<v1::EntityInference>;
using OpenInferenceClient = ServiceClient<::inference::GRPCInferenceService>;

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_TYPED_CLIENTS_H_
