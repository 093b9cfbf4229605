#ifndef FABRIQUE_SERVICES_INFERENCE_FEATURE_CLIENT_PORT_H_
#define FABRIQUE_SERVICES_INFERENCE_FEATURE_CLIENT_PORT_H_

// Serving's feature port (libs/serving/feature_port.h) on the real feature store, through
// libs/client, as the inference server's own identity. One attempt per lookup: an entity request
// has a deadline of its own and the caller decides whether to retry. A store that cannot be
// reached is UNAVAILABLE with a message that starts "the feature store is unavailable: ", so the
// Predict caller reads at once which dependency failed.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/serving/feature_port.h"

namespace fabrique::services {

class FeatureClientPort final : public serving::FeaturePort {
 public:
  // `channel` to the feature store at `target` (host:port, for messages).
  FeatureClientPort(std::shared_ptr<grpc::Channel> channel, const std::string& target);

  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest& request,
                                                        absl::Time deadline) override;

 private:
  const client::FeaturesClient client_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_FEATURE_CLIENT_PORT_H_
