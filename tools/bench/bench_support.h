#ifndef FABRIQUE_TOOLS_BENCH_BENCH_SUPPORT_H_
#define FABRIQUE_TOOLS_BENCH_BENCH_SUPPORT_H_

// What the benchmark programs share: a real service binary started on free loopback ports with
// its own data dir (and stopped with SIGTERM), reached over TLS with a token as a deployment is
// (or plaintext under --insecure, the security comparison's baseline), a child process such as a
// baseline server or a Python script, latency percentiles, medians of repeats, and memory figures.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "libs/client/channel.h"
#include "tools/cli/child_process.h"

namespace fabrique::bench {

// The directory holding this program (build/bin), where the service binaries are too.
std::string BinaryDir();

// How a benchmark's services are served and called. By default as a deployment does it: TLS with
// certificates from a local authority (as `fabrique up` makes under DATA_DIR/auth), tokens
// verified against its JWKS, calls decided by the default policy, and every call carrying a
// token of the policy's admin; or plaintext with --insecure and no token. Copyable.
class Security {
 public:
  // Opens (or creates) a local authority in `dir`, writes the default policy there with user
  // "bench" as its admin, and mints the admin's token, valid 24 h.
  static absl::StatusOr<Security> Local(const std::string& dir);
  // Plaintext, no authentication (the binaries' --insecure).
  static Security Insecure() { return Security(); }

  bool insecure() const { return insecure_; }
  // "TLS + token" or "plaintext (--insecure)", for the benchmark's output.
  const char* Name() const;
  // The flags that make the binary of `service` ("features", ...) serve this way.
  std::vector<std::string> ServerFlags(const std::string& service) const;
  // A channel to `target` reached this way. With `share_connections` false it has a connection
  // of its own (a fresh handshake; concurrent clients measure several connections, not one).
  // Exits on an error: a benchmark has no use for a channel it cannot make.
  std::shared_ptr<grpc::Channel> Channel(const std::string& target,
                                         bool share_connections = true) const;
  // A client context with a deadline `timeout` from now and the token, if any.
  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) const;

 private:
  Security() = default;
  bool insecure_ = true;
  std::string dir_;    // The authority's directory; "" when insecure.
  std::string token_;  // "Bearer <token>"; "" when insecure.
};

// A Fabrique service binary (fabrique-features, ...) started on 127.0.0.1 with --port=0, its log
// in DATA_DIR.log, and stopped with SIGTERM (drain, exit 0) when destroyed.
class SpawnedService {
 public:
  // Starts BinaryDir()/`binary` with --data_dir=`data_dir` (created fresh), served as `security`
  // says, plus `extra_flags`; then waits up to `timeout` for its ports and for health SERVING.
  static absl::StatusOr<std::unique_ptr<SpawnedService>> Start(
      const std::string& binary, const std::string& data_dir, const Security& security,
      const std::vector<std::string>& extra_flags = {}, absl::Duration timeout = absl::Seconds(30));
  ~SpawnedService();

  // "127.0.0.1:PORT" of its gRPC server.
  const std::string& target() const { return target_; }
  // Its Prometheus /metrics port.
  int metrics_port() const { return metrics_port_; }
  pid_t pid() const { return process_->pid(); }
  // The process's peak resident memory so far (VmHWM), in MiB; -1 if it cannot be read.
  long PeakRssMib() const;
  // Sends SIGTERM and waits for the exit code (-1 on timeout).
  int Stop();

 private:
  SpawnedService(std::unique_ptr<cli::ChildProcess> process, std::string target, int metrics_port)
      : process_(std::move(process)), target_(std::move(target)), metrics_port_(metrics_port) {}
  std::unique_ptr<cli::ChildProcess> process_;
  std::string target_;
  int metrics_port_;
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
