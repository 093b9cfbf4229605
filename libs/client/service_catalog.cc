#include "libs/client/service_catalog.h"

namespace fabrique::client {

const std::vector<ServiceInfo>& Services() {
  static const auto* const services = new std::vector<ServiceInfo>{
      {"features", "fabrique-features", 7101, 9101, true, {"fabrique.v1.FeatureStore"}},
      {"registry", "fabrique-registry", 7102, 9102, true, {"fabrique.v1.ModelRegistry"}},
      {"trainer", "fabrique-trainer", 7103, 9103, true, {"fabrique.v1.Trainer"}},
      {"inference",
       "fabrique-inference",
       7104,
       9104,
       false,
       {"inference.GRPCInferenceService", "fabrique.v1.EntityInference"}},
      {"monitor", "fabrique-monitor", 7105, 9105, true, {"fabrique.v1.Monitor"}},
      {"tower", "fabrique-tower", 7106, 9106, true, {"fabrique.v1.Tower"}},
  };
  return *services;
}

const ServiceInfo* FindService(absl::string_view name) {
  for (const ServiceInfo& service : Services()) {
    if (service.name == name) return &service;
  }
  return nullptr;
}

}  // namespace fabrique::client
