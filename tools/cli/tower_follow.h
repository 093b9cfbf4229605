#ifndef FABRIQUE_TOOLS_CLI_TOWER_FOLLOW_H_
#define FABRIQUE_TOOLS_CLI_TOWER_FOLLOW_H_

// Follows tower jobs to their end, as `fabrique tower submit` and `jobs watch JOB` do: the
// tower's WatchJobs stream, one line per change of state with its reason on stderr, and while a
// job runs on the trainer, the run's progress (epoch, loss, validation metric, ETA) from the
// trainer's WatchRun. A stream that breaks is resumed from the last revision seen; a job that
// ends while no event can reach the stream is caught by a slow GetJob check.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/client/typed_clients.h"

namespace fabrique::cli {

// Whether a job is done: succeeded, failed or cancelled (a preempted job is requeued).
bool JobEnded(v1::JobState state);

// The line a change prints: "job J: queued: waiting for cpu in squad risk ..." (without the
// job's id when `with_id` is false).
std::string JobChangeLine(const v1::Job& job, bool with_id);

struct FollowOptions {
  // Where the trainer is, to show a running job's progress; nullopt = no progress lines.
  std::optional<client::TrainerClient> trainer;
  // How often the job is read to catch an end the stream missed.
  absl::Duration check_interval = absl::Seconds(10);
  // Stream breaks tolerated in a row before giving up.
  int max_reconnects = 5;
};

// Follows `job_ids` until each has ended; returns them as they ended, by id. Errors are the
// tower's (NOT_FOUND for an unknown job).
absl::StatusOr<std::map<std::string, v1::Job>> FollowJobs(const client::TowerClient& tower,
                                                          const std::vector<std::string>& job_ids,
                                                          const FollowOptions& options);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_FOLLOW_H_
