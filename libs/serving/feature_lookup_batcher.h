#ifndef FABRIQUE_LIBS_SERVING_FEATURE_LOOKUP_BATCHER_H_
#define FABRIQUE_LIBS_SERVING_FEATURE_LOOKUP_BATCHER_H_

// Online feature lookups of concurrent requests, batched together. Requests asking the same
// features (same refs, same order) for the same entity names go to the feature store as one
// LookupOnline, their rows concatenated, and each gets its own rows back. No delay is added at low
// load: a request is looked up at once unless `max_in_flight` lookups of its feature list are
// already in flight; then it waits and goes with everything that arrived meanwhile in the next
// one. So the store sees few large calls under load, and every call one request's latency when
// quiet.
//
// The API is asynchronous so a gRPC callback reactor never blocks: a blocking port's call runs on
// the batcher's own threads, and `done` is called there (or inline for an immediate refusal). A
// non-blocking port (FeaturePort::non_blocking) is called from the thread that made the lookup
// ready, and `done` runs on the port's thread: one thread hand-off less per request each way.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/clock.h"
#include "libs/serving/feature_port.h"

namespace fabrique::serving {

struct FeatureLookupBatcherOptions {
  FeaturePort* port = nullptr;  // The feature store. Not owned; required.
  // Lookups in flight at once per feature list (features and entity names). Default 1.
  int max_in_flight = 1;
  // Rows per merged lookup, at most. A single request with more rows still goes, alone.
  // Default 1000.
  int max_rows = 1000;
  // Threads calling the port (its call blocks). Default 4.
  int threads = 4;
  // Requests waiting for a lookup, all feature lists together; beyond: RESOURCE_EXHAUSTED.
  // Default 10000.
  int max_waiting_requests = 10000;
  core::Clock* clock = core::Clock::Real();  // Deadlines are read on it. Not owned.
};

// What the batcher has done since it was made (for metrics and tests).
struct FeatureLookupCounters {
  int64_t lookups = 0;            // Calls made to the port.
  int64_t requests = 0;           // Requests answered by those calls.
  int64_t deadline_exceeded = 0;  // Requests whose deadline passed before their lookup started.
};

using LookupDone = std::function<void(absl::StatusOr<LookupAnswer>)>;

class FeatureLookupBatcher {
 public:
  // INVALID_ARGUMENT naming the option when one is missing or out of range.
  static absl::StatusOr<std::unique_ptr<FeatureLookupBatcher>> Create(
      FeatureLookupBatcherOptions options);
  ~FeatureLookupBatcher();  // Stop(), then joins the threads.

  FeatureLookupBatcher(const FeatureLookupBatcher&) = delete;
  FeatureLookupBatcher& operator=(const FeatureLookupBatcher&) = delete;

  // Looks `request` up by `deadline`; `done` is called exactly once: with this request's rows (as
  // if it had been sent alone; never null), or INVALID_ARGUMENT (no features, no rows, entity key
  // columns of different lengths), DEADLINE_EXCEEDED (the deadline passed before its lookup
  // started), RESOURCE_EXHAUSTED (too many requests waiting), UNAVAILABLE (stopped), or the failed
  // lookup's status, the same for every request in it (the port's message kept as it is). A merged
  // lookup's deadline is the earliest of its requests'.
  void Lookup(v1::LookupOnlineRequest request, absl::Time deadline, LookupDone done);
  // The same, for a request the caller holds (not null): read, never copied, until `done`. An
  // entity request's lookup names 50 features and 100 keys; copying it cost some 9 us before
  // the lookup left, and as much again to free.
  void Lookup(std::shared_ptr<const v1::LookupOnlineRequest> request, absl::Time deadline,
              LookupDone done);

  // Stops taking requests (later Lookups: UNAVAILABLE), looks up everything waiting, returns when
  // every `done` has been called. Idempotent. Never call it from a `done` (it would wait for
  // itself).
  void Stop();

  FeatureLookupCounters Counters() const;
  int64_t waiting_requests() const;  // Requests waiting for a lookup now (a gauge).

 private:
  struct Waiter {
    std::shared_ptr<const v1::LookupOnlineRequest> request;
    int64_t rows = 0;
    absl::Time deadline;
    LookupDone done;
  };
  // One call to the port: the requests it answers, in order.
  struct Group {
    std::string key;
    std::vector<Waiter> waiters;
    v1::LookupOnlineRequest merged;  // The waiters' requests joined, when more than one.
    absl::Time deadline = absl::InfiniteFuture();  // The earliest of the waiters'.
    int64_t rows = 0;

    // Joins the waiters' requests (when more than one) and computes the deadline and rows.
    void Prepare();
    // The request sent for the whole group.
    const v1::LookupOnlineRequest& request() const {
      return waiters.size() == 1 ? *waiters[0].request : merged;
    }
  };
  // Per feature list: the lookups in flight and the requests waiting for the next one.
  struct KeyState {
    int in_flight = 0;
    std::deque<Waiter> queue;
  };
  using Refusals = std::vector<std::pair<LookupDone, absl::Status>>;

  explicit FeatureLookupBatcher(FeatureLookupBatcherOptions options);
  void Work();
  void Reap();
  // Looks `group` up through the blocking port (on a batcher thread) and answers it.
  void Run(Group& group);
  // Looks `group` up through the non-blocking port; answered on the port's thread.
  void Dispatch(Group group);
  // Hands the port's `answer` to the group's requests, after starting the next lookup of its key.
  void Complete(Group& group, absl::StatusOr<LookupAnswer> answer);
  // After a lookup of `key` ends: starts the next one if requests wait.
  void Finish(const std::string& key);
  // Moves the waiters of `state` into `next` (up to max_rows) and counts it in flight; false when
  // none wait. Those past their deadline go into `expired`.
  bool TakeNextLocked(const std::string& key, KeyState& state, absl::Time now, Group* next,
                      Refusals* expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time EarliestDeadlineLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Answer(LookupDone& done, absl::StatusOr<LookupAnswer> result);
  void Refuse(Refusals& refusals);

  const FeatureLookupBatcherOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, KeyState> keys_ ABSL_GUARDED_BY(mu_);
  std::deque<Group> ready_ ABSL_GUARDED_BY(mu_);  // Lookups waiting for a thread.
  int64_t waiting_ ABSL_GUARDED_BY(mu_) = 0;      // Requests in the keys' queues.
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;  // Requests taken, `done` not yet called.
  absl::Time reaper_target_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  int64_t reaper_generation_ ABSL_GUARDED_BY(mu_) = 0;  // Bumped to wake the reaper early.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;          // No more requests taken.
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;          // Threads exit.
  FeatureLookupCounters counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
  std::thread reaper_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_FEATURE_LOOKUP_BATCHER_H_
