#ifndef FABRIQUE_SERVICES_FEATURES_FEATURE_STORE_SERVICE_H_
#define FABRIQUE_SERVICES_FEATURES_FEATURE_STORE_SERVICE_H_

// The gRPC adapter of `fabrique::v1::FeatureStore`. It will validate, call the domain core, map the
// status and record metrics, as every adapter does; its calls are built with the feature store
// (issue 3). Until then every call answers UNIMPLEMENTED with a message naming that work (see
// libs/server/not_built_interceptor.h), never a fake success.

#include "fabrique/v1/features.grpc.pb.h"

namespace fabrique::services {

class FeatureStoreService final : public fabrique::v1::FeatureStore::Service {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_FEATURE_STORE_SERVICE_H_
