#ifndef FABRIQUE_LIBS_SERVER_BINDINGS_FOLLOWER_H_
#define FABRIQUE_LIBS_SERVER_BINDINGS_FOLLOWER_H_

// Follows the tower's role bindings (fabrique.v1.Tower/WatchRoleBindings) into a service's access
// policy, so that a member added to a squad at the tower may act at every service within
// seconds, and one removed may not.
//
//   BindingsFollowerOptions options;
//   options.service_name = "registry";
//   options.channel = channel;                 // to the tower, with the service's certificate
//   options.policy = policy_store;             // gets SetFollowedBindings on every change
//   options.cache_path = data_dir + "/auth/tower_bindings.pb";
//   ASSIGN_OR_RETURN(auto follower, BindingsFollower::Start(std::move(options), registry));
//
// The last set received is written to `cache_path` (atomically) and read at start, so the
// bindings survive the tower being down, and a restart while it is. A broken stream is
// reconnected with exponential backoff; each failure is counted. The static policy file stays
// the bootstrap: followed bindings only add to it (PolicyStore::SetFollowedBindings).
//
// Metrics: fabrique_<service>_tower_bindings_revision (gauge, the revision in force; 0 = none)
// and fabrique_<service>_tower_bindings_follow_failures_total (counter).

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "libs/auth/policy_store.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fabrique::server {

// The tower's bindings as policy bindings; those the policy's syntax refuses are logged and
// skipped.
std::vector<auth::Binding> ToPolicyBindings(const v1::RoleBindings& bindings);

struct BindingsFollowerOptions {
  // Short service name, for metric names and logs: "registry". Required.
  std::string service_name;
  // A channel to the tower. Required.
  std::shared_ptr<grpc::Channel> channel;
  // The policy the bindings are merged into. Not owned; required.
  auth::PolicyStore* policy = nullptr;
  // Where the last set is kept; "" = not kept (a stateless service without --data_dir).
  std::string cache_path;
  // Reconnection backoff: doubles from `initial_backoff` up to `max_backoff`.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
};

class BindingsFollower {
 public:
  // Loads the cached set, if any, into the policy, then starts following. A cache that cannot
  // be read or parsed is logged and ignored (the tower sends the set again). INVALID_ARGUMENT for
  // missing options. `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<BindingsFollower>> Start(BindingsFollowerOptions options,
                                                                 prometheus::Registry* metrics);
  // Stops following (cancels the stream) and joins the thread.
  ~BindingsFollower();

  // The revision of the set in force; 0 before any.
  int64_t revision() const;
  int64_t failures() const;

 private:
  explicit BindingsFollower(BindingsFollowerOptions options);
  void Run();
  // Follows one stream until it ends; returns why.
  absl::Status FollowOnce();
  // Puts `bindings` in force and keeps them on disk.
  void Apply(const v1::RoleBindings& bindings, bool from_cache);
  void RegisterMetrics(prometheus::Registry* registry);

  const BindingsFollowerOptions options_;
  prometheus::Gauge* revision_gauge_ = nullptr;
  prometheus::Counter* failures_counter_ = nullptr;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_BINDINGS_FOLLOWER_H_
