#ifndef FABRIQUE_TOOLS_CLI_TOWER_SUBMIT_H_
#define FABRIQUE_TOOLS_CLI_TOWER_SUBMIT_H_

// What `fabrique tower submit` reads and how it ends: the job's spec from a file (a JobSpec, or
// a trainer RunSpec that becomes the job's training), the flags laid over it, the trainer to
// follow progress on, and the exit code of jobs that ended.

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/credentials.h"

namespace fabrique::cli {

// Reads a JobSpec, or a RunSpec made the JobSpec's training, from `path`: JSON, or YAML when the
// name does not end in .json. INVALID_ARGUMENT naming the file and both parsers' words.
absl::Status ReadJobSpecFile(const std::string& path, v1::JobSpec* spec);

// The flags `submit` lays over the file's spec.
struct SubmitFlags {
  std::string squad;
  std::string use_case;
  std::string cpu;     // Cores or millicores: 2, 500m.
  std::string memory;  // 8Gi, 512Mi.
  int gpu = -1;
  std::string flavor;
  std::string priority;  // An integer; "" = from the use case's WSJF.
  std::string executor;  // local, kubernetes.
  std::string kind;      // training, search, retraining.
  absl::Duration max_runtime = absl::ZeroDuration();
  std::string image;
  std::string reason;
  std::string request_id;
  bool wait_for_approval = false;
};

// Builds the request from `spec` and the flags. The use case defaults to the RunSpec's.
// INVALID_ARGUMENT naming the flag for a value it cannot read.
absl::Status BuildSubmitRequest(const SubmitFlags& flags, const v1::JobSpec& spec,
                                v1::SubmitJobRequest* request);

// The trainer to follow runs' progress on: at `trainer_target` when given, else found as the
// tower is (a `fabrique up` folder); nullopt when there is no telling where it is.
std::optional<client::TrainerClient> TrainerFor(const ConnectionFlags& tower,
                                                const std::string& trainer_target);

// Prints the jobs as they ended; returns 0 when every one succeeded, else 1 after one line per
// job that did not, with its state and why ("PROGRAM: job J failed: <reason>").
int ReportEnded(const std::string& program, const std::map<std::string, v1::Job>& ended);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_SUBMIT_H_
