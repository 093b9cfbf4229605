#ifndef FABRIQUE_LIBS_SERVING_FEATURE_PORT_H_
#define FABRIQUE_LIBS_SERVING_FEATURE_PORT_H_

// How serving reads entity features from the feature store online, keeping gRPC out of this
// library: the inference binary implements it with libs/client, tests with an in-memory fake.

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::serving {

// A lookup's answer, read-only and shared: a port may hold it on an arena of its own, which the
// pointer keeps until its last holder lets go. A 100-row lookup of 50 features parsed onto the
// heap is some 250 allocations, made on the request's path and freed one by one.
using LookupAnswer = std::shared_ptr<const v1::LookupOnlineResponse>;

class FeaturePort {
 public:
  virtual ~FeaturePort() = default;

  // Reads the latest values (FeatureStore.LookupOnline), one attempt, answering by `deadline`.
  // Blocking: the FeatureLookupBatcher calls it from its own threads, never from a gRPC reactor.
  // Errors: UNAVAILABLE when the store cannot be reached, with a message that starts "the feature
  // store is unavailable: " (callers pass it on as it is); DEADLINE_EXCEEDED; the store's own
  // verdicts (INVALID_ARGUMENT for entity keys that do not cover a group's entity, NOT_FOUND for
  // an unknown feature, PERMISSION_DENIED).
  virtual absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(
      const v1::LookupOnlineRequest& request, absl::Time deadline) = 0;

  // Whether LookupOnlineAsync answers without blocking its caller. When it does, the
  // FeatureLookupBatcher starts each lookup on the thread that made it ready and carries the
  // answer on from the port's thread: no hand-off to a thread of its own and back. Default false.
  virtual bool non_blocking() const { return false; }

  // The same lookup, answered through `done`, called exactly once (on a thread of the port's, or
  // inline for an immediate refusal) with what LookupOnline would return (never a null answer).
  // `request` stays valid until then. By default it calls LookupOnline inline, which blocks.
  virtual void LookupOnlineAsync(const v1::LookupOnlineRequest& request, absl::Time deadline,
                                 std::function<void(absl::StatusOr<LookupAnswer>)> done) {
    absl::StatusOr<v1::LookupOnlineResponse> answer = LookupOnline(request, deadline);
    if (!answer.ok()) return done(answer.status());
    done(std::make_shared<const v1::LookupOnlineResponse>(*std::move(answer)));
  }
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_FEATURE_PORT_H_
