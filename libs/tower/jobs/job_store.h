#ifndef FABRIQUE_LIBS_TOWER_JOBS_JOB_STORE_H_
#define FABRIQUE_LIBS_TOWER_JOBS_JOB_STORE_H_

// Where the job queue keeps its jobs, in the tower's store:
// - family "tower_jobs": every job by id (ids sort by creation time, so a reverse scan is newest
//   first), an index of unfinished jobs, request ids, and jobs whose closed loop is still due;
// - family "tower_job_events": the event log, one JobEvent per change, keyed by revision, trimmed
//   to the newest `event_retention` events.
// Each change writes the job, its event and its indexes in one synced batch, so a crash never
// leaves a job without its event or an admission without its record.
//
// Not thread-safe for writes: the job queue writes under its lock. Reads may run at any time.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/kv/store.h"

namespace fabrique::tower {

inline constexpr char kJobsFamily[] = "tower_jobs";
inline constexpr char kJobEventsFamily[] = "tower_job_events";

// One page of ListJobs.
struct JobPage {
  std::vector<v1::Job> jobs;
  std::string next_page_token;
};

// Filters of ListJobs and WatchJobs; empty = any.
struct JobFilter {
  std::string squad;
  std::string use_case_id;
  std::vector<v1::JobState> states;
  std::vector<std::string> job_ids;
  bool Matches(const v1::Job& job) const;
};

class JobStore {
 public:
  // `store` must outlive this and hold both families. `event_retention`: events kept, >= 1.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(kv::Store* store, int64_t event_retention);

  // Every unfinished job, and the finished ones whose closed loop is still due.
  absl::StatusOr<std::vector<v1::Job>> LoadUnfinished() const;
  absl::StatusOr<std::vector<std::string>> LoadLoopsDue() const;

  // How many jobs are in each state, by squad.
  absl::StatusOr<std::map<std::pair<std::string, v1::JobState>, int>> CountByState() const;
  // The job, or NOT_FOUND.
  absl::StatusOr<v1::Job> Get(absl::string_view id) const;
  // The job first submitted with `request_id`, or nullopt.
  absl::StatusOr<std::optional<v1::Job>> FindByRequest(absl::string_view request_id) const;
  // Jobs newest first; `page_size` 0 = 100, at most 1000.
  absl::StatusOr<JobPage> List(const JobFilter& filter, int page_size,
                               absl::string_view page_token) const;

  // Records `job` after a change from `previous` (UNSPECIFIED for a new job) with the next
  // revision, and returns its event. `loop_due` marks (true) or clears (false) the closed loop.
  absl::StatusOr<v1::JobEvent> Record(const v1::Job& job, v1::JobState previous, absl::Time now,
                                      std::optional<bool> loop_due = std::nullopt);

  // Events with revision > `after`, at most `limit`, oldest first.
  absl::StatusOr<std::vector<v1::JobEvent>> EventsAfter(int64_t after, int limit) const;
  // The newest revision recorded (0 when none) and the oldest still kept.
  int64_t last_revision() const { return next_revision_ - 1; }
  int64_t oldest_kept_revision() const;

 private:
  JobStore(kv::Store* store, kv::ColumnFamily jobs, kv::ColumnFamily events, int64_t retention)
      : store_(store), jobs_(jobs), events_(events), retention_(retention) {}

  kv::Store* store_;
  kv::ColumnFamily jobs_;
  kv::ColumnFamily events_;
  int64_t retention_;
  int64_t next_revision_ = 1;
};

// Whether a job in `state` is over: SUCCEEDED, FAILED or CANCELLED.
bool IsFinished(v1::JobState state);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_JOB_STORE_H_
