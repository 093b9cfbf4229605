#ifndef FABRIQUE_SERVICES_INFERENCE_FEATURE_CLIENT_PORT_H_
#define FABRIQUE_SERVICES_INFERENCE_FEATURE_CLIENT_PORT_H_

// Serving's feature port (libs/serving/feature_port.h) on the real feature store, through
// libs/client, as the inference server's own identity. One attempt per lookup: an entity request
// has a deadline of its own and the caller decides whether to retry. A store that cannot be
// reached is UNAVAILABLE with a message that starts "the feature store is unavailable: ", so the
// Predict caller reads at once which dependency failed.
//
// Each lookup is one unary LookupOnline on gRPC's callback API (non_blocking): started on the
// thread that made it ready, answered on gRPC's thread, its deadline the call's own. One batch of
// operations and one completion per lookup: a profile of entity Predict found a lookup on a
// long-lived LookupOnlineStream costing the inference server three completions (the write, the
// read, and cancelling the timer that enforced its deadline), each waking one of gRPC's threads,
// which cost more than the store's per-call access check and new HTTP/2 stream that the stream
// saved.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/server/arena_message_pool.h"
#include "libs/serving/feature_port.h"

namespace fabrique::services {

class FeatureClientPort final : public serving::FeaturePort {
 public:
  // `channel` to the feature store at `target` (host:port, for messages); every call with
  // `context`'s credentials (none by default: the channel's identity), by the lookup's deadline.
  FeatureClientPort(std::shared_ptr<grpc::Channel> channel, const std::string& target,
                    client::CallContext context = {});

  // Blocking, for callers off gRPC's threads.
  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest& request,
                                                        absl::Time deadline) override;
  bool non_blocking() const override { return true; }
  // Answers on a pooled arena: a 100 x 50 answer parsed onto the heap took the inference server
  // some 250 allocations (about 20 us on the request's path) and as many frees.
  void LookupOnlineAsync(const v1::LookupOnlineRequest& request, absl::Time deadline,
                         std::function<void(absl::StatusOr<serving::LookupAnswer>)> done) override;

 private:
  // The lookup's error for the call's `status`.
  absl::Status Failure(const grpc::Status& status) const;

  // Arenas the async answers are parsed into (each lookup's request message there goes unused).
  using AnswerPool = server::ArenaMessagePool<v1::LookupOnlineRequest, v1::LookupOnlineResponse>;

  const client::FeaturesClient client_;
  const std::shared_ptr<AnswerPool> answers_ = std::make_shared<AnswerPool>();
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_FEATURE_CLIENT_PORT_H_
