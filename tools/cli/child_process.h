#ifndef FABRIQUE_TOOLS_CLI_CHILD_PROCESS_H_
#define FABRIQUE_TOOLS_CLI_CHILD_PROCESS_H_

// A service process started by `fabrique up`: its own process group (so the terminal's Ctrl-C
// reaches only the launcher, which then stops services in order), output appended to a log
// file, and SIGTERM from the kernel if the launcher dies (so no service is orphaned).

#include <sys/types.h>

#include <ios>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace fabrique::cli {

class ChildProcess {
 public:
  // Starts `argv[0]` (a path) with `argv`, stdout and stderr appended to `log_path`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // Returns the exit code if the process has ended (128 + signal if a signal ended it).
  std::optional<int> Poll();

  // Sends `signal`; a process that already ended is left alone.
  void Signal(int signal);

  // Waits up to `timeout` for the process to end; returns its exit code, or nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> exit_code_;
};

// Finds the "server_started" JSON line a Fabrique service logs once its ports are bound, after
// byte `offset` of its log, and reads the ports from it. Returns false until the line is there.
bool ReadServerStartedPorts(const std::string& log_path, std::streamoff offset, int* grpc_port,
                            int* metrics_port);

// Returns the last `lines` lines of the file at `path` ("" if it cannot be read).
std::string TailFile(const std::string& path, int lines);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_CHILD_PROCESS_H_
