#ifndef FABRIQUE_LIBS_TOWER_KUBERNETES_KUBERNETES_EXECUTOR_H_
#define FABRIQUE_LIBS_TOWER_KUBERNETES_KUBERNETES_EXECUTOR_H_

// Runs the tower's admitted jobs as batch/v1 Jobs through the Kubernetes API, and follows them.
//
// Start creates the attempt's Job (job_manifest.h) in the squad's namespace, then the ConfigMap
// with its run spec, owned by that Job. A create that answers 409 means an earlier Start (before
// a tower restart) got there first: the Job is read back and the start counts as done, so Start
// is idempotent by (job id, preemptions). With a Kueue queue the Job is created suspended and
// Kueue decides when it runs.
//
// One thread polls every followed Job (GET, every poll_interval) and reports changes to the
// job's sink, in order: RUNNING once pods are active (again every running_report_interval with
// the usage so far), then SUCCEEDED or FAILED with the Job's condition and the usage from its
// start and completion times. The registered model version and
// the last epoch checkpointed come from the trainer's termination message, read from the Job's
// pod. A Job deleted by someone else is reported FAILED.
//
// Stop deletes the Job with propagation Background (its pods and ConfigMap go with it) and
// reports CANCELLED with the reason given.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/tower/kubernetes/api_client.h"
#include "libs/tower/kubernetes/job_manifest.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

class KubernetesExecutor : public JobExecutor {
 public:
  struct Options {
    KubernetesApiClient::Options api;
    JobManifestOptions manifest;
    // How often each followed Job is read.
    absl::Duration poll_interval = absl::Seconds(5);
    // How often a running job's usage so far is reported again, for the budget's metering;
    // zero = only when its state changes.
    absl::Duration running_report_interval = absl::Minutes(1);
    core::Clock* clock = core::Clock::Real();  // Not owned.
    // Called on every failed call to the API (for fabrique_tower_executor_errors_total); may be
    // empty.
    std::function<void()> on_error;
  };

  static absl::StatusOr<std::unique_ptr<KubernetesExecutor>> Create(Options options);
  ~KubernetesExecutor() override;

  absl::Status Start(const v1::Job& job, ExecutionSink* sink) override;
  absl::Status Follow(const v1::Job& job, ExecutionSink* sink) override;
  absl::Status Stop(const v1::Job& job, absl::string_view reason) override;

  // Calls to the API that failed (for fabrique_tower_executor_errors_total{executor}).
  int64_t ApiErrors() const { return api_errors_.load(); }

 private:
  struct Followed {
    absl::Mutex mu;  // Held while reporting, so a job's updates keep their order.
    v1::Job job;
    ExecutionSink* sink = nullptr;
    std::string ns;
    std::string name;
    v1::JobState last_state = v1::JOB_STATE_UNSPECIFIED;
    absl::Time start_time = absl::InfinitePast();
    absl::Time last_report = absl::InfinitePast();
    bool stopping = false;  // Stop is deleting it: its 404 is not news, Stop reports.
    bool done = false;
  };

  KubernetesExecutor(Options options, std::unique_ptr<KubernetesApiClient> api);
  absl::Status Track(const v1::Job& job, std::string ns, std::string name, ExecutionSink* sink);
  void PollLoop();
  void Poll(Followed& followed);
  void ReadResult(const Followed& followed, ExecutionUpdate* update);
  // Counts the failure, then returns it.
  absl::Status Count(absl::Status status);

  const Options options_;
  const std::unique_ptr<KubernetesApiClient> api_;
  std::atomic<int64_t> api_errors_{0};
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Followed>> followed_ ABSL_GUARDED_BY(mu_);
  std::thread poller_;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_KUBERNETES_KUBERNETES_EXECUTOR_H_
