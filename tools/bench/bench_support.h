#ifndef FABRIQUE_TOOLS_BENCH_BENCH_SUPPORT_H_
#define FABRIQUE_TOOLS_BENCH_BENCH_SUPPORT_H_

// What the benchmark programs share: a real service binary started on free loopback ports with
// its own data dir (and stopped with SIGTERM), a child process such as a baseline server or a
// Python script, latency percentiles, medians of repeats, and memory figures.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/cli/child_process.h"

namespace fabrique::bench {

// The directory holding this program (build/bin), where the service binaries are too.
std::string BinaryDir();

// A Fabrique service binary (fabrique-features, ...) started on 127.0.0.1 with --port=0, its log
// in DATA_DIR.log, and stopped with SIGTERM (drain, exit 0) when destroyed.
class SpawnedService {
 public:
  // Starts BinaryDir()/`binary` with --data_dir=`data_dir` (created fresh) plus `extra_flags`,
  // then waits up to `timeout` for its ports and for health SERVING.
  static absl::StatusOr<std::unique_ptr<SpawnedService>> Start(
      const std::string& binary, const std::string& data_dir,
      const std::vector<std::string>& extra_flags = {}, absl::Duration timeout = absl::Seconds(30));
  ~SpawnedService();

  // "127.0.0.1:PORT" of its gRPC server.
  const std::string& target() const { return target_; }
  pid_t pid() const { return process_->pid(); }
  // The process's peak resident memory so far (VmHWM), in MiB; -1 if it cannot be read.
  long PeakRssMib() const;
  // Sends SIGTERM and waits for the exit code (-1 on timeout).
  int Stop();

 private:
  SpawnedService(std::unique_ptr<cli::ChildProcess> process, std::string target)
      : process_(std::move(process)), target_(std::move(target)) {}
  std::unique_ptr<cli::ChildProcess> process_;
  std::string target_;
};

// A free TCP port on 127.0.0.1 at the time of the call (for baselines that cannot bind port 0
// and report it, like redis-server).
absl::StatusOr<int> FreeLoopbackPort();

// Runs `argv` to completion (argv[0] a path, or a name looked up on PATH when it has no '/'),
// with its stdout captured and returned, stderr passed through. A non-zero exit is an error.
absl::StatusOr<std::string> RunAndCapture(const std::vector<std::string>& argv);

// The p-th percentile (0..100) of `values` (sorted inside; nearest rank).
double Percentile(std::vector<double> values, double p);
// The median of `values`.
double Median(std::vector<double> values);

// Peak resident memory (VmHWM) of process `pid` (0 = this one), in MiB; -1 if unreadable.
long PeakRssMib(pid_t pid = 0);
// Resets this process's VmHWM to its current resident size, so a phase's peak can be measured.
void ResetPeakRss();

// Exits with a message when `status` is not OK: a benchmark has no use for a partial figure.
void CheckOk(const absl::Status& status, const char* what);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_BENCH_SUPPORT_H_
