#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_RETRAIN_TRIGGER_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_RETRAIN_TRIGGER_H_

// When a policy asks for it, turns drift or decay into a retraining job for the tower. It counts
// consecutive drifted evaluations per model version and asks for a retrain after the policy's
// K in a row, or at once when a performance floor is breached; never twice for a model within
// the policy's cooldown, never while one is still being submitted.
//
// The job runs the policy's spec_template, else the spec of the run that trained the version,
// its time range moved to end now. A tower that is down does not lose the request: it is kept
// (persisted with the counts, so a restart changes nothing), and tried again on later rounds
// with exponential backoff, never by sleeping, so one model's tower trouble never delays the
// evaluation of another. A request carries one idempotency key for all its tries. The accepted
// job's id goes on the alert that caused it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/kv/store.h"
#include "libs/monitoring/alerts/alert_store.h"
#include "libs/monitoring/alerts/retrain_ports.h"

namespace fabrique::monitoring {

struct RetrainTriggerOptions {
  // Opened by OpenAlertStorage. Not owned; required.
  kv::Store* store = nullptr;
  // Where accepted jobs' ids are recorded. Not owned; required.
  AlertStore* alerts = nullptr;
  // Not owned; required.
  TowerPort* tower = nullptr;
  // Not owned; required unless every policy has a spec_template.
  TrainingOriginSource* origins = nullptr;
  // Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
  // Wait after the first failed try, then times `backoff_multiplier` per failure, at most
  // `max_backoff`. Defaults 5 s, 2, 5 min.
  absl::Duration initial_backoff = absl::Seconds(5);
  double backoff_multiplier = 2;
  absl::Duration max_backoff = absl::Minutes(5);
};

// What one evaluation of a version tells the trigger.
struct RetrainSignal {
  std::string model;
  int64_t version = 0;
  bool drift_judged = false;  // The drift report had enough data for a verdict.
  bool drifted = false;
  bool performance_breached = false;
  // The alert a retrain would answer (drift or performance); "" when none.
  std::string alert_id;
};

// What the trigger did with a signal.
struct RetrainOutcome {
  int32_t consecutive_drifted = 0;  // After this evaluation.
  bool requested = false;           // A retrain was asked for now.
  std::string skipped;              // Why one was due but not asked for (cooldown, pending).
  std::optional<v1::Job> job;       // Accepted by the tower now.
  // Why the request was given up (the version has no run spec, the tower refused it); "" else.
  std::string failure;
};

class RetrainTrigger {
 public:
  static absl::StatusOr<std::unique_ptr<RetrainTrigger>> Create(RetrainTriggerOptions options);

  // Counts the evaluation and, when `policy` says so, asks for a retrain (trying the tower once
  // at once).
  absl::StatusOr<RetrainOutcome> Observe(const v1::MonitoringPolicy& policy,
                                         const RetrainSignal& signal);
  // Tries again every kept request whose backoff has passed. Returns the jobs accepted now.
  absl::StatusOr<std::vector<v1::Job>> RetryPending();

  // The request waiting for the tower for `model`, if any (for tests and status pages).
  absl::StatusOr<std::optional<v1::SubmitJobRequest>> Pending(absl::string_view model) const;
  // Consecutive drifted evaluations of `model` `version` so far.
  absl::StatusOr<int32_t> ConsecutiveDrifted(absl::string_view model, int64_t version) const;

 private:
  struct Kept;
  RetrainTrigger(RetrainTriggerOptions options, kv::ColumnFamily family)
      : options_(std::move(options)), family_(family), ids_(options_.clock) {}

  // Builds the request for `model` `version` (spec from the policy or the version's run).
  // Tries the kept request of `model` once: the job when accepted, nullopt when kept for later
  // (the tower or the registry away); a final refusal drops the request and is returned.
  absl::StatusOr<std::optional<v1::Job>> TrySubmit(const std::string& model)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<Kept>> LoadKept(const std::string& model) const;
  absl::Status SaveKept(const std::string& model, const Kept& kept);
  absl::Status DropKept(const std::string& model);

  const RetrainTriggerOptions options_;
  const kv::ColumnFamily family_;
  core::IdGenerator ids_;
  absl::Mutex mu_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_RETRAIN_TRIGGER_H_
