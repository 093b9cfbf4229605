#ifndef FABRIQUE_SERVICES_INFERENCE_READINESS_H_
#define FABRIQUE_SERVICES_INFERENCE_READINESS_H_

// Keeps the inference server's grpc.health.v1 status (what Kubernetes' readiness probe asks)
// and its serving gauges in step with serving: NOT_SERVING until a plan is applied and every
// primary is READY, then SERVING, and back when that stops holding. Polls, because readiness
// depends on the follower and the model set together.

#include <functional>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/inference/inference_metrics.h"
#include "services/inference/serving_view.h"

namespace fabrique::services {

struct ReadinessOptions {
  const ServingView* serving = nullptr;  // Required; not owned.
  // Called with the readiness at the first poll and on every change. Required.
  std::function<void(bool ready)> set_serving;
  InferenceMetrics* metrics = nullptr;  // Its serving gauges are set at every poll; may be null.
  absl::Duration interval = absl::Milliseconds(100);  // Between polls. Default 100 ms.
};

class ReadinessWatch {
 public:
  // Polls once (so the status is right before the first probe), then on a thread of its own.
  explicit ReadinessWatch(ReadinessOptions options);
  ~ReadinessWatch();  // Stop().
  // Ends the polling; the status stays as last set. Idempotent.
  void Stop();

  // One poll: sets the gauges, and the status when it changed. Returns the readiness.
  bool Poll();

 private:
  const ReadinessOptions options_;
  int last_ = -1;  // -1 before the first poll; only the polling thread touches it after.
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_READINESS_H_
