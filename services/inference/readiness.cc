#include "services/inference/readiness.h"

#include "libs/core/log.h"

namespace fabrique::services {

ReadinessWatch::ReadinessWatch(ReadinessOptions options) : options_(std::move(options)) {
  Poll();
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.interval)) Poll();
  });
}

ReadinessWatch::~ReadinessWatch() { Stop(); }

void ReadinessWatch::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool ReadinessWatch::Poll() {
  const ServingView& serving = *options_.serving;
  const bool ready = serving.Ready();
  const bool from_cache = serving.FromCache();
  if (options_.metrics != nullptr) {
    options_.metrics->SetServing(serving.models().Status());
    options_.metrics->SetRegistry(serving.RegistryConnected(), serving.RegistryRevision(),
                                  from_cache, ready);
  }
  if (static_cast<int>(ready) != last_) {
    last_ = ready ? 1 : 0;
    options_.set_serving(ready);
    core::Log(core::LogLevel::kInfo, ready ? "serving_ready" : "serving_not_ready",
              {{"from_cache", from_cache}, {"registry_revision", serving.RegistryRevision()}});
  }
  return ready;
}

}  // namespace fabrique::services
