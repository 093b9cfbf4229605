#ifndef FABRIQUE_SERVICES_INFERENCE_MONITOR_CLIENT_PORT_H_
#define FABRIQUE_SERVICES_INFERENCE_MONITOR_CLIENT_PORT_H_

// Serving's monitor port (libs/serving/monitor_port.h) on the real monitor: one batch of
// prediction records per LogPredictions stream, one attempt (the prediction logger retries
// under the same batch id), as the inference server's own identity.

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/serving/monitor_port.h"

namespace fabrique::services {

class MonitorClientPort final : public serving::MonitorPort {
 public:
  // `channel` to the monitor at `target` (host:port, for messages).
  MonitorClientPort(std::shared_ptr<grpc::Channel> channel, const std::string& target);

  absl::StatusOr<v1::LogPredictionsResponse> Send(const v1::LogPredictionsRequest& request,
                                                  absl::Time deadline) override;

 private:
  const client::MonitorClient client_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_MONITOR_CLIENT_PORT_H_
