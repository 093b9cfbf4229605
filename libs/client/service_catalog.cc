#include "libs/client/service_catalog.h"

namespace fabrique::client {

const std::vector<ServiceInfo>& Services() {
  static const auto* const services = new std::vector<ServiceInfo>{
      {"features",
       "fabrique-features",
       7101,
       9101,
       true,
       {"fabrique.v1.FeatureStore"},
       "Serves the feature store: entities and feature groups with versioned schemas, streaming\n"
       "ingest, online lookup with TTL, history, point-in-time training sets, catalog and lineage.",
       "the feature store"},
      {"registry",
       "fabrique-registry",
       7102,
       9102,
       true,
       {"fabrique.v1.ModelRegistry"},
       "Serves the model registry: model versions, content-addressed artifacts, aliases, governed\n"
       "promotion, approvals, audit and watch streams.",
       "the model registry"},
      {"trainer",
       "fabrique-trainer",
       7103,
       9103,
       true,
       {"fabrique.v1.Trainer"},
       "Serves the trainer: LibTorch training runs from feature-store training sets to "
       "registered,\n"
       "servable TorchScript model versions.",
       "the trainer"},
      {"inference",
       "fabrique-inference",
       7104,
       9104,
       false,
       {"inference.GRPCInferenceService", "fabrique.v1.EntityInference"},
       "Serves models over the Open Inference Protocol (KServe v2) and Fabrique's entity-keyed\n"
       "prediction API: dynamic batching, hot swap, canary and shadow, prediction logging.",
       "inference serving"},
      {"monitor",
       "fabrique-monitor",
       7105,
       9105,
       true,
       {"fabrique.v1.Monitor"},
       "Serves the monitor: prediction logs, late ground truth, drift against reference\n"
       "profiles, back-testing, alerts and retraining requests.",
       "the monitor"},
      {"tower",
       "fabrique-tower",
       7106,
       9106,
       true,
       {"fabrique.v1.Tower"},
       "Serves the control tower: use-case portfolio, squads and quotas, fair-share job\n"
       "scheduling, approvals and budget.",
       "the control tower"},
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
