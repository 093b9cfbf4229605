#ifndef FABRIQUE_SERVICES_INFERENCE_FEATURE_STREAM_PORT_H_
#define FABRIQUE_SERVICES_INFERENCE_FEATURE_STREAM_PORT_H_

// Serving's feature port on the feature store's LookupOnlineStream: long-lived streams, one
// lookup in flight on each, reused lookup after lookup. A unary LookupOnline pays per call for a
// new HTTP/2 stream, its metadata and the store's access check; on an open stream a lookup is one
// message each way, and the answer is carried on from gRPC's own thread (non_blocking), so an
// entity request changes threads no more than a ModelInfer does.
//
// Each lookup takes an idle stream (or opens one, through libs/client as the inference server's
// own identity), and gets the answer, or:
//  - DEADLINE_EXCEEDED when `deadline` passes first (the stream is cancelled: a late answer
//    would belong to no one);
//  - UNAVAILABLE "the feature store is unavailable: ..." when the store cannot be reached; a
//    lookup that found its reused stream ended under it (the store restarted while the stream
//    was idle) is sent once more on a new stream first;
//  - the store's verdict on the request (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED), which
//    ends that stream; the next lookup opens another.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/serving/feature_port.h"

namespace fabrique::services {

struct FeatureStreamPortOptions {
  std::shared_ptr<grpc::Channel> channel;  // To the feature store. Required.
  std::string target;                      // host:port, for messages.
  client::CallContext context;             // Credentials of every stream; its timeout is unused.
  // Idle streams kept open for later lookups; one finishing beyond them is closed. Default 16.
  int max_idle_streams = 16;
};

class FeatureStreamPort final : public serving::FeaturePort {
 public:
  explicit FeatureStreamPort(FeatureStreamPortOptions options);
  // Closes the idle streams and waits until every stream has ended (cancelling those still open
  // after 2 s). Every lookup must have been answered (FeatureLookupBatcher::Stop) before.
  ~FeatureStreamPort() override;

  FeatureStreamPort(const FeatureStreamPort&) = delete;
  FeatureStreamPort& operator=(const FeatureStreamPort&) = delete;

  // Blocking, for callers off gRPC's threads: LookupOnlineAsync, waited for.
  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest& request,
                                                        absl::Time deadline) override;
  bool non_blocking() const override { return true; }
  void LookupOnlineAsync(
      const v1::LookupOnlineRequest& request, absl::Time deadline,
      std::function<void(absl::StatusOr<v1::LookupOnlineResponse>)> done) override;

  // Streams opened since construction (for tests and metrics).
  int64_t streams_opened() const;

  class Stream;

 private:
  friend class Stream;
  using Done = std::function<void(absl::StatusOr<v1::LookupOnlineResponse>)>;

  void Send(const v1::LookupOnlineRequest& request, absl::Time deadline, Done done, bool may_retry);
  // A stream ready for a lookup: an idle one (`*reused` true) or a new one.
  absl::StatusOr<std::shared_ptr<Stream>> Take(bool* reused);
  // `stream` answered and may take the next lookup.
  void Idle(std::shared_ptr<Stream> stream);
  // The error of a lookup whose stream ended with `status`.
  absl::Status Failure(const grpc::Status& status) const;
  // `stream` ended: it takes no more lookups.
  void Ended(const Stream* stream);
  // `stream` is destroyed, its context (and so its hold on the channel) first: the destructor
  // waits for this.
  void Gone(const Stream* stream);

  const FeatureStreamPortOptions options_;
  const client::FeaturesClient client_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Stream>> idle_ ABSL_GUARDED_BY(mu_);
  // Streams opened, not yet destroyed.
  absl::flat_hash_map<const Stream*, std::weak_ptr<Stream>> live_ ABSL_GUARDED_BY(mu_);
  int64_t opened_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_FEATURE_STREAM_PORT_H_
