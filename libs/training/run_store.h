#ifndef FABRIQUE_LIBS_TRAINING_RUN_STORE_H_
#define FABRIQUE_LIBS_TRAINING_RUN_STORE_H_

// RunStore: the trainer's runs and their event logs on kv, so that runs survive a restart. A run
// moves queued -> building dataset -> training -> evaluating -> registering -> succeeded, or to
// failed or cancelled from any state before those; every move is recorded in the run's history
// and as an event, and each event carries the run's next sequence (1, 2, ...), so a watcher that
// reconnects after sequence S reads every later event once, in order. A run that a restart
// interrupted is reported failed, with the state it was in; one still queued stays queued.
//
// Keys in its family: ("r", run_id) -> Run, ("e", run_id, sequence) -> RunEvent, ("i",
// request_id) -> run_id. Mutations take one lock; reads none.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/trainer.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/kv/write_batch.h"

namespace fabrique::training {

struct RunStoreOptions {
  kv::Store* store = nullptr;  // Not owned. Required.
  std::string family = "runs";
  core::Clock* clock = nullptr;  // Not owned; nullptr = the real clock.
};

class RunStore {
 public:
  // Opens the runs and fails every one a restart interrupted (past QUEUED, not in a final
  // state), with the reason, as events; `interrupted` (optional) receives how many. Queued runs
  // stay queued (Queued()).
  static absl::StatusOr<std::unique_ptr<RunStore>> Create(RunStoreOptions options,
                                                          int* interrupted = nullptr);

  // Stores `run` (spec, submitter...) as a new QUEUED run with a fresh time-sortable id. A
  // non-empty `request_id` seen before returns the run it created instead.
  absl::StatusOr<v1::Run> Submit(v1::Run run, const std::string& request_id = "");
  absl::StatusOr<v1::Run> Get(const std::string& run_id) const;
  // The run an earlier Submit with `request_id` created; NOT_FOUND when none did.
  absl::StatusOr<v1::Run> FindByRequestId(const std::string& request_id) const;
  // The ids of the runs waiting to start, oldest first.
  absl::StatusOr<std::vector<std::string>> Queued() const;
  // Newest first, filtered by model, use case, state and submitter, and kept to the runs whose
  // squad `visible` accepts (null = every run); paged by run id. Runs left out do not count
  // towards a page, so a caller seeing few squads still gets full pages.
  absl::StatusOr<v1::ListRunsResponse> List(
      const v1::ListRunsRequest& request,
      const std::function<bool(const std::string& squad)>& visible = nullptr) const;

  // Moves the run to `to`, recording `reason`; FAILED_PRECONDITION when the run has ended
  // already or `to` goes backwards. Final states set end_time; leaving QUEUED sets start_time.
  absl::StatusOr<v1::Run> Transition(const std::string& run_id, v1::RunState to,
                                     const std::string& reason = "");
  // Changes the run's record with `change` (progress, trials, results) and, when `event` has
  // a payload, appends it as an event.
  absl::StatusOr<v1::Run> Update(const std::string& run_id,
                                 const std::function<void(v1::Run*)>& change,
                                 v1::RunEvent event = {});

  // Visits the run's events with sequence > `after`, in order; stops when `visit` returns false.
  absl::Status EventsAfter(const std::string& run_id, int64_t after,
                           absl::FunctionRef<bool(const v1::RunEvent&)> visit) const;
  // Blocks until the run has an event past `after` or `timeout` ends; returns its last sequence.
  int64_t WaitForEventAfter(const std::string& run_id, int64_t after, absl::Duration timeout) const;
  // Callers blocked in WaitForEventAfter now (lets a test append an event only once a watcher is
  // provably waiting).
  int waiters() const;

  static bool IsFinal(v1::RunState state);

 private:
  RunStore(RunStoreOptions options, kv::ColumnFamily family)
      : options_(std::move(options)), family_(family) {}
  // Writes `run` and, if it has a payload, `event` numbered after the run's last, in one batch.
  absl::Status Commit(v1::Run& run, v1::RunEvent event, kv::WriteBatch batch = {})
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t LastSequence(const std::string& run_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  google::protobuf::Timestamp Now() const;

  const RunStoreOptions options_;
  const kv::ColumnFamily family_;
  mutable absl::Mutex mu_;
  // Last event sequence per run, for numbering and for waking watchers.
  mutable absl::flat_hash_map<std::string, int64_t> last_sequence_ ABSL_GUARDED_BY(mu_);
  mutable int waiters_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_STORE_H_
