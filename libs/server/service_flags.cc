#include "libs/server/service_flags.h"

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "libs/core/cpus.h"
#include "libs/core/grpc_log.h"
#include "libs/core/log.h"
#include "libs/core/open_files.h"
#include "libs/server/memory_return.h"
#include "libs/server/signals.h"

namespace fabrique::server {
namespace {

// Declares the transport and authentication flags on `flag_set`.
void AddSecurityFlags(core::FlagSet& flag_set, ServiceFlags& flags) {
  flag_set.Add("tls_cert", &flags.tls.cert_path,
               "The server's TLS certificate chain (PEM); with --tls_key and --tls_client_ca");
  flag_set.Add("tls_key", &flags.tls.key_path, "The private key of --tls_cert (PEM)");
  flag_set.Add("tls_client_ca", &flags.tls.client_ca_path,
               "CA bundle (PEM) that signs client certificates; one presented is verified "
               "against it (callers with a bearer token present none)");
  flag_set.Add("tls_reload_interval", &flags.host.tls_reload_interval,
               "How often the TLS files are read again, so rotated ones are served without a "
               "restart");
  flag_set.Add("insecure", &flags.insecure,
               "Plaintext and no authentication: every caller may do anything. For debugging "
               "only; instead of the --tls_* flags");
  flag_set.Add("jwks", &flags.auth.jwks_path,
               "JWKS file of the OIDC provider's keys that sign bearer tokens");
  flag_set.Add("token_issuer", &flags.auth.token_issuer, "The issuer (iss) bearer tokens carry");
  flag_set.Add("token_audience", &flags.auth.token_audience,
               "The audience (aud) bearer tokens must be for");
  flag_set.Add("policy", &flags.auth.policy_path,
               "RBAC policy file (.csv or .yaml): roles' permissions and who holds them in "
               "which squad");
  flag_set.Add("bindings_target", &flags.bindings_target,
               "HOST:PORT of the tower whose squads' role bindings are followed and added to "
               "--policy's (kept under DATA_DIR/auth while the tower is down); empty = off");
}

}  // namespace

absl::Status ApplyTransportFlags(absl::string_view program, ServiceFlags* flags) {
  const TlsFiles& tls = flags->tls;
  std::vector<std::string> given, missing;
  for (const auto& [flag, path] :
       {std::pair<const char*, const std::string*>{"--tls_cert", &tls.cert_path},
        {"--tls_key", &tls.key_path},
        {"--tls_client_ca", &tls.client_ca_path}}) {
    (path->empty() ? missing : given).push_back(flag);
  }
  if (flags->insecure && !given.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--insecure (plaintext) cannot be combined with ", absl::StrJoin(given, ", "),
                     " (TLS): pass one or the other"));
  }
  if (flags->insecure) {
    flags->host.plaintext = true;
    flags->host.tls.reset();
    return absl::OkStatus();
  }
  if (given.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        program,
        " serves TLS: pass --tls_cert=FILE --tls_key=FILE --tls_client_ca=FILE (its "
        "certificate, its key, and the CA that signs client certificates), or --insecure for "
        "plaintext without authentication (debugging only). 'fabrique up' makes these files "
        "for a laptop."));
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(absl::StrJoin(given, ", "), " given without ",
                                                   absl::StrJoin(missing, ", "),
                                                   ": TLS needs all three"));
  }
  flags->host.plaintext = false;
  flags->host.tls = tls;
  return absl::OkStatus();
}

client::ChannelOptions ServiceFlags::PeerChannel(const std::string& target) const {
  client::ChannelOptions options;
  options.target = target;
  options.plaintext = insecure;
  if (!insecure) {
    options.tls.ca_path = tls.client_ca_path;
    options.tls.cert_path = tls.cert_path;
    options.tls.key_path = tls.key_path;
    options.tls_reload_interval = host.tls_reload_interval;
  }
  return options;
}

int ServiceMain(int argc, char** argv, absl::string_view service_name,
                const std::function<void(core::FlagSet&)>& add_flags,
                const std::function<absl::Status(const ServiceFlags&)>& run) {
  // Before any thread exists, so every later thread inherits the mask (see signals.h).
  BlockTerminationSignals();
  // Debian's Abseil is built with deadlock detection on: every Mutex acquisition then goes
  // through one process-wide graph under a global lock, a cost on every call of every service
  // (seen in profiles of the registry). Tests keep it on; the binaries turn it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  core::RouteGrpcLogsToJson();

  const client::ServiceInfo* info = client::FindService(service_name);
  if (info == nullptr) {
    std::cerr << "fabrique: no service called '" << service_name << "' in the catalog\n";
    return 1;
  }
  ServiceFlags flags;
  flags.info = info;
  flags.host.service_name = std::string(info->name);
  flags.host.port = info->default_port;
  flags.host.metrics_port = info->default_metrics_port;
  if (info->stateful) flags.data_dir = absl::StrCat("fabrique-data/", info->name);
  flags.malloc_arenas = std::max(2, core::UsableCpus());

  const std::string program(info->binary);
  core::FlagSet flag_set(program, std::string(info->summary));
  flag_set.Add("listen_host", &flags.host.listen_host,
               "Address the gRPC and metrics ports bind to (0.0.0.0 = all interfaces, "
               "127.0.0.1 = this machine only)");
  flag_set.Add("port", &flags.host.port, "gRPC port; 0 picks a free port and logs it");
  flag_set.Add("metrics_port", &flags.host.metrics_port,
               "Prometheus /metrics HTTP port; 0 picks a free port, -1 disables metrics");
  flag_set.Add("max_message_bytes", &flags.host.max_message_bytes,
               "Largest gRPC request or response message, in bytes");
  flag_set.Add("keepalive_time", &flags.host.keepalive_time,
               "Idle time before the server pings a client connection");
  flag_set.Add("keepalive_timeout", &flags.host.keepalive_timeout,
               "Time to wait for a keepalive ack before closing the connection");
  flag_set.Add("max_connection_age", &flags.host.max_connection_age,
               "Age after which clients are asked to reconnect, so they spread over new replicas; "
               "0 = never");
  flag_set.Add("shutdown_grace", &flags.host.shutdown_grace,
               "On SIGTERM/SIGINT, how long in-flight calls may finish before being cancelled");
  flag_set.Add("memory_return_interval", &flags.host.memory_return_interval,
               "How often memory the service freed is handed back to the system, so its RSS is "
               "what it uses rather than the peak of past bursts; 0 = never");
  flag_set.Add("malloc_arenas", &flags.malloc_arenas,
               "Arenas the C allocator spreads threads over; fewer keep less freed memory "
               "resident beside what is in use; the default is one per usable CPU (0 = glibc's "
               "default, 8 per core)");
  flag_set.Add("log_level", &flags.log_level,
               "Least severe JSON log lines written to stderr: debug, info, warning or error");
  AddSecurityFlags(flag_set, flags);
  if (info->stateful) {
    flag_set.Add("data_dir", &flags.data_dir,
                 "Folder holding all of this service's state; created if missing");
  }
  if (add_flags) add_flags(flag_set);
  flag_set.set_epilog(absl::StrCat(
      "Serves TLS (--tls_cert, --tls_key, --tls_client_ca; 'fabrique up' makes them on a "
      "laptop), or plaintext with --insecure.\n"
      "Health: grpc.health.v1 on the gRPC port; metrics: http://HOST:METRICS_PORT/metrics.\n"
      "Stops cleanly on SIGTERM or SIGINT (exit 0). Exit codes: 0 clean stop, 1 error, "
      "2 bad flags."));

  absl::StatusOr<core::ParsedArgs> parsed = flag_set.Parse(argc, argv);
  if (!parsed.ok()) {
    std::cerr << program << ": " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << flag_set.Usage();
    return 0;
  }
  if (!parsed->positional.empty()) {
    std::cerr << program << ": unexpected argument '" << parsed->positional.front() << "'; run '"
              << program << " --help'\n";
    return 2;
  }
  core::LogLevel level;
  if (!core::ParseLogLevel(flags.log_level, &level)) {
    std::cerr << program << ": --log_level=" << flags.log_level
              << " is not one of debug, info, warning, error\n";
    return 2;
  }
  core::SetMinLogLevel(level);
  if (absl::Status transport = ApplyTransportFlags(program, &flags); !transport.ok()) {
    std::cerr << program << ": " << transport.message() << "\n";
    return 2;
  }

  // After the flags, before `run` starts the service's threads.
  if (absl::Status arenas = MemoryReturn::LimitArenas(flags.malloc_arenas); !arenas.ok()) {
    std::cerr << program << ": " << arenas.message() << "\n";
    return 2;
  }
  // Before `run` opens its stores, each of which holds a share of the limit open
  // (kv::StoreOptions::max_open_files). Not fatal: the service still runs at the lower limit.
  if (absl::StatusOr<int64_t> raised = core::RaiseOpenFileLimit(); !raised.ok()) {
    core::Log(core::LogLevel::kWarning, "open_file_limit_not_raised",
              {{"service", info->name}, {"error", std::string(raised.status().message())}});
  }
  const absl::Status status = run(flags);
  if (!status.ok()) {
    core::Log(core::LogLevel::kError, "server_failed",
              {{"service", info->name},
               {"code", absl::StatusCodeToString(status.code())},
               {"error", std::string(status.message())}});
    return 1;
  }
  return 0;
}

}  // namespace fabrique::server
