// `fabrique up`: the embedded default. Starts the six services on this machine with their data
// under one folder, waits until every health check says SERVING, prints the endpoints, and stays
// in the foreground; on Ctrl-C or SIGTERM it stops them in reverse order and reports each exit.
//
// Like kind and minikube, it is its own identity provider: DATA_DIR/auth holds a CA, a
// certificate per service, a token signing key and its JWKS (auth::LocalAuthority), and the
// access policy, written once from the default with the local user as platform-admin. Every
// service serves TLS with its certificate and verifies tokens against the JWKS; the CLI, run with
// --data_dir by the same user, mints its own tokens with the signing key (local_token.h).
// --insecure runs everything in plaintext without authentication, for debugging.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/auth/default_policy.h"
#include "libs/auth/local_authority.h"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/client/service_catalog.h"
#include "libs/core/file_io.h"
#include "libs/core/flags.h"
#include "libs/server/data_dir_lock.h"
#include "libs/server/signals.h"
#include "tools/cli/child_process.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/credentials.h"
#include "tools/cli/endpoints_file.h"
#include "tools/cli/local_token.h"
#include "tools/cli/rpc_call.h"
#include "tools/cli/up_layout.h"

namespace fabrique::cli {
namespace {

struct UpFlags {
  std::string data_dir = "fabrique-data";
  std::string listen_host = "127.0.0.1";
  int grpc_base_port = 7101;
  int metrics_base_port = 9101;
  std::string bin_dir;
  absl::Duration startup_timeout = absl::Seconds(60);
  absl::Duration shutdown_grace = absl::Seconds(10);
  bool insecure = false;
};

struct Running {
  const client::ServiceInfo* info;  // Services()[index].
  size_t index = 0;
  std::unique_ptr<ChildProcess> process;
  std::string log_path;
  int grpc_port = 0;
  int metrics_port = -1;
};

// A port flag applies to the i-th service as base + i, except 0 (a free port each) and -1.
int PortFor(int base, size_t index) { return base <= 0 ? base : base + static_cast<int>(index); }

std::string Address(const std::string& host, int port) { return absl::StrCat(host, ":", port); }

// Stops the services in reverse start order; returns true if all exited with 0.
bool StopAll(std::vector<Running>& running, absl::Duration grace) {
  bool clean = true;
  for (auto it = running.rbegin(); it != running.rend(); ++it) {
    it->process->Signal(SIGTERM);
    std::optional<int> code = it->process->Wait(grace + absl::Seconds(5));
    if (!code.has_value()) {
      std::cout << absl::StrFormat("  %-10s did not stop in time; killed\n", it->info->name);
      it->process->Signal(SIGKILL);
      it->process->Wait(absl::Seconds(5));
      clean = false;
      continue;
    }
    std::cout << absl::StrFormat("  %-10s stopped (exit %d)\n", it->info->name, *code);
    clean = clean && *code == 0;
  }
  return clean;
}

void ReportFailure(const Running& r, const std::string& what) {
  std::cerr << "fabrique up: " << r.info->name << " " << what << "; last lines of " << r.log_path
            << ":\n"
            << TailFile(r.log_path, 15) << "\n";
}

enum class StartResult { kServing, kFailed, kInterrupted };

// The flags that make service `name` serve TLS with its certificate from DATA_DIR/auth and verify
// callers against the local authority's keys and policy; --insecure under `up --insecure`.
std::vector<std::string> SecurityFlags(const UpFlags& flags, absl::string_view name) {
  if (flags.insecure) return {"--insecure"};
  const std::string dir = AuthDir(flags.data_dir);
  return {absl::StrCat("--tls_cert=", dir, "/", name, ".crt"),
          absl::StrCat("--tls_key=", dir, "/", name, ".key"),
          absl::StrCat("--tls_client_ca=", CaPath(flags.data_dir)),
          absl::StrCat("--jwks=", JwksPath(flags.data_dir)),
          absl::StrCat("--token_issuer=", kLocalIssuer),
          absl::StrCat("--policy=", PolicyPath(flags.data_dir))};
}

// The channel `up` checks a service's health over: TLS trusting the local CA, checking the
// certificate names the service (it does not name 0.0.0.0 or a host's other addresses).
absl::StatusOr<std::shared_ptr<grpc::Channel>> HealthChannel(const UpFlags& flags,
                                                             absl::string_view name,
                                                             const std::string& address) {
  client::ChannelOptions options;
  options.target = address;
  options.plaintext = flags.insecure;
  if (!flags.insecure) {
    options.tls.ca_path = CaPath(flags.data_dir);
    options.tls.server_name_override = LocalServerName(name);
  }
  return client::MakeChannel(options);
}

// Makes (first time) or opens the local authority in DATA_DIR/auth, and writes the default policy
// with the local user as platform-admin when there is none: an edited policy is kept.
absl::Status PrepareIdentity(const UpFlags& flags) {
  auth::LocalAuthorityOptions options;
  options.dir = AuthDir(flags.data_dir);
  absl::StatusOr<std::unique_ptr<auth::LocalAuthority>> authority =
      auth::LocalAuthority::Open(options);
  if (!authority.ok()) return authority.status();
  const std::string policy = PolicyPath(flags.data_dir);
  std::error_code error;
  if (std::filesystem::exists(policy, error)) return absl::OkStatus();
  return core::WriteFileAtomically(policy, auth::DefaultPolicyText(LocalUser(ProcessEnvironment())),
                                   0600);
}

// `up --insecure` says so where everybody looks: on the terminal, and in DATA_DIR/insecure, which
// tells the CLI's --data_dir to speak plaintext to it.
absl::Status AnnounceSecurity(const UpFlags& flags) {
  const std::string marker = InsecureMarkerPath(flags.data_dir);
  std::error_code error;
  if (!flags.insecure) {
    std::filesystem::remove(marker, error);
    return absl::OkStatus();
  }
  std::cerr
      << "\n"
         "  WARNING: --insecure: every service listens in PLAINTEXT and authenticates NOBODY.\n"
         "  Anyone who can reach these ports may read and change everything. For debugging\n"
         "  only; never on a shared machine or network.\n\n";
  return core::WriteFileAtomically(
      marker, "The services of this 'fabrique up' run with --insecure: plaintext, no auth.\n",
      0644);
}

// The services `name` calls, by catalog name; each gets --<peer>_target. The trainer reads the
// feature store and registers in the registry; the inference server follows the registry, looks
// features up and logs predictions to the monitor; the monitor asks the registry about models
// and the trainer for the spec of the run a retrain repeats; the tower runs jobs on the trainer
// and moves a retrained model's candidate alias and canary share in the registry. Two calls go to
// services started later, whose ports are fixed first (see FixForwardPorts): the registry asks the
// monitor (promotion gates), the monitor sends retrains to the tower.
std::vector<absl::string_view> PeersOf(absl::string_view name) {
  if (name == "trainer") return {"features", "registry"};
  if (name == "inference") return {"features", "registry", "monitor"};
  if (name == "monitor") return {"registry", "trainer"};
  if (name == "tower") return {"registry", "trainer"};
  return {};
}

// Catalog indexes in the order the services start: the catalog's, except that the monitor comes
// before the inference server, which logs to it from its first prediction (and stops before it,
// flushing its log, as services stop in reverse).
std::vector<size_t> StartOrder() {
  std::vector<size_t> order;
  for (size_t i = 0; i < client::Services().size(); ++i) order.push_back(i);
  const auto named = [](absl::string_view name) {
    return [name](size_t i) { return client::Services()[i].name == name; };
  };
  auto monitor = std::find_if(order.begin(), order.end(), named("monitor"));
  auto inference = std::find_if(order.begin(), order.end(), named("inference"));
  if (monitor != order.end() && inference != order.end() && inference < monitor) {
    std::rotate(inference, monitor, monitor + 1);
  }
  return order;
}

// A port free now on every interface, from the kernel; 0 when none could be had.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// The gRPC ports of the services called by one started before them, fixed before anything
// starts: the registry (which the monitor asks about models, so it starts first) calls the
// monitor for its promotion gates, and the monitor calls the tower with retraining jobs. With
// free ports (--grpc_base_port=0) one is reserved here for each; should another process take it
// meanwhile, that service fails to start and `up` says so.
struct ForwardPorts {
  int monitor = 0;
  int tower = 0;
};

ForwardPorts FixForwardPorts(const UpFlags& flags) {
  ForwardPorts ports;
  for (size_t i = 0; i < client::Services().size(); ++i) {
    const absl::string_view name = client::Services()[i].name;
    if (name != "monitor" && name != "tower") continue;
    const int planned = PortFor(flags.grpc_base_port, i);
    (name == "monitor" ? ports.monitor : ports.tower) = planned > 0 ? planned : FreePort();
  }
  return ports;
}

// Starts one service and waits for its ports and its health. Whatever happens, the process (if
// any) joins `running`, so the caller can stop it; failures are reported here.
StartResult StartOne(const UpFlags& flags, const std::string& bin_dir, size_t index,
                     const ForwardPorts& forward, std::vector<Running>& running) {
  const client::ServiceInfo& info = client::Services()[index];
  Running r{&info, index, nullptr, absl::StrCat(flags.data_dir, "/logs/", info.name, ".log")};
  const int fixed_port = info.name == "monitor" ? forward.monitor
                         : info.name == "tower" ? forward.tower
                                                : 0;
  std::vector<std::string> argv = {
      absl::StrCat(bin_dir, "/", info.binary), absl::StrCat("--listen_host=", flags.listen_host),
      absl::StrCat("--port=", fixed_port > 0 ? fixed_port : PortFor(flags.grpc_base_port, index)),
      absl::StrCat("--metrics_port=", PortFor(flags.metrics_base_port, index)),
      absl::StrCat("--shutdown_grace=", absl::FormatDuration(flags.shutdown_grace))};
  for (std::string& flag : SecurityFlags(flags, info.name)) argv.push_back(std::move(flag));
  if (info.stateful) argv.push_back(absl::StrCat("--data_dir=", flags.data_dir, "/", info.name));
  // Each service is told where the peers it calls, started before it, listen (see PeersOf),
  // wherever their ports landed. The inference server keeps its verified model cache under
  // DATA_DIR, so a restart serves at once.
  if (info.name == "inference") {
    argv.push_back(absl::StrCat("--data_dir=", flags.data_dir, "/", info.name));
  }
  if (info.name == "registry" && forward.monitor > 0) {
    argv.push_back(absl::StrCat("--monitor_target=", Address(flags.listen_host, forward.monitor)));
    // On one machine a candidate's canary comparison is asked again every few seconds, so a
    // promotion waiting for live evidence completes soon after the evidence is there.
    argv.push_back("--monitor_recheck_interval=5s");
  }
  if (info.name == "monitor" && forward.tower > 0) {
    argv.push_back(absl::StrCat("--tower_target=", Address(flags.listen_host, forward.tower)));
  }
  // Every service but the tower follows the squads' role bindings the tower holds; the tower's
  // port is fixed before anything starts, so services started before it find it when it comes.
  if (info.name != "tower" && forward.tower > 0) {
    argv.push_back(absl::StrCat("--bindings_target=", Address(flags.listen_host, forward.tower)));
  }
  const std::vector<absl::string_view> peers = PeersOf(info.name);
  for (const Running& started : running) {
    if (std::find(peers.begin(), peers.end(), started.info->name) != peers.end()) {
      argv.push_back(absl::StrCat("--", started.info->name,
                                  "_target=", Address(flags.listen_host, started.grpc_port)));
    }
  }
  std::error_code ignored;
  const std::streamoff offset =
      std::filesystem::exists(r.log_path) ? std::filesystem::file_size(r.log_path, ignored) : 0;

  std::cout << absl::StrFormat("  %-10s starting ...", info.name) << std::flush;
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(argv, r.log_path);
  if (!process.ok()) {
    std::cout << " failed\n";
    std::cerr << "fabrique up: " << process.status().message() << "\n";
    return StartResult::kFailed;
  }
  r.process = *std::move(process);
  auto fail = [&](const std::string& what) {
    std::cout << " failed\n";
    ReportFailure(r, what);
    running.push_back(std::move(r));
    return StartResult::kFailed;
  };
  const absl::Time deadline = start + flags.startup_timeout;
  while (!ReadServerStartedPorts(r.log_path, offset, &r.grpc_port, &r.metrics_port)) {
    if (std::optional<int> code = r.process->Poll(); code.has_value()) {
      return fail(absl::StrCat("exited with code ", *code, " while starting"));
    }
    if (absl::Now() > deadline) return fail("did not bind its ports in time");
    // Waiting doubles as listening for Ctrl-C, so a slow start can be abandoned.
    if (server::WaitForTerminationSignalFor(absl::Milliseconds(20)) != 0) {
      std::cout << " interrupted\n";
      running.push_back(std::move(r));
      return StartResult::kInterrupted;
    }
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      HealthChannel(flags, info.name, Address(flags.listen_host, r.grpc_port));
  if (!channel.ok()) return fail(std::string(channel.status().message()));
  for (absl::string_view service : info.grpc_services) {
    absl::Status serving =
        client::WaitUntilServing(*channel, std::string(service), deadline - absl::Now());
    if (!serving.ok()) return fail(absl::StrCat(service, " is ", serving.message()));
  }
  std::cout << absl::StrFormat(" SERVING (%.1fs)\n", absl::ToDoubleSeconds(absl::Now() - start));
  running.push_back(std::move(r));
  return StartResult::kServing;
}

// The running services in catalog order, for listings (they start in StartOrder).
std::vector<const Running*> InCatalogOrder(const std::vector<Running>& running) {
  std::vector<const Running*> sorted;
  for (const Running& r : running) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(),
            [](const Running* a, const Running* b) { return a->index < b->index; });
  return sorted;
}

void PrintTable(const UpFlags& flags, const std::vector<Running>& running) {
  std::cout << absl::StrFormat("\n%-10s %-22s %-38s %-8s %s\n", "SERVICE", "GRPC", "METRICS",
                               "HEALTH", "PID");
  for (const Running* listed : InCatalogOrder(running)) {
    const Running& r = *listed;
    const std::string metrics = r.metrics_port < 0 ? "off"
                                                   : absl::StrCat("http://", flags.listen_host, ":",
                                                                  r.metrics_port, "/metrics");
    std::cout << absl::StrFormat("%-10s %-22s %-38s %-8s %d\n", r.info->name,
                                 Address(flags.listen_host, r.grpc_port), metrics, "SERVING",
                                 r.process->pid());
  }
  std::cout << "\nData and logs in " << flags.data_dir << "/.";
  if (flags.insecure) {
    std::cout << " INSECURE: plaintext, no authentication.";
  } else {
    std::cout << " TLS with the CA " << CaPath(flags.data_dir)
              << "; commands run with --data_dir by you call as " << LocalUser(ProcessEnvironment())
              << " (platform-admin).";
  }
  std::cout << "\nPress Ctrl-C to stop.\n" << std::flush;
}

}  // namespace

int RunUp(const std::string& self_path, const std::vector<std::string>& args) {
  UpFlags flags;
  flags.data_dir = DefaultDataDir(ProcessEnvironment());
  core::FlagSet flag_set("fabrique up",
                         "Starts all six Fabrique services on this machine (the embedded default), "
                         "waits until\nevery health check says SERVING, prints their endpoints and "
                         "stays in the foreground.\nCtrl-C or SIGTERM stops them all cleanly.");
  flag_set.Add("data_dir", &flags.data_dir,
               "Folder for every service's state (one subfolder each), logs/ and auth/; "
               "default $FABRIQUE_DATA_DIR, else fabrique-data");
  flag_set.Add("listen_host", &flags.listen_host, "Address the services listen on");
  flag_set.Add("grpc_base_port", &flags.grpc_base_port,
               "gRPC port of features; the others follow (+1 .. +5). 0 gives each a free port");
  flag_set.Add("metrics_base_port", &flags.metrics_base_port,
               "Metrics port of features; the others follow. 0 = free ports, -1 = no metrics");
  flag_set.Add("bin_dir", &flags.bin_dir,
               "Folder holding the fabrique-* binaries; empty means the folder of this program");
  flag_set.Add("startup_timeout", &flags.startup_timeout,
               "Longest wait for one service to report SERVING");
  flag_set.Add("shutdown_grace", &flags.shutdown_grace,
               "Time each service has to drain in-flight calls when stopping");
  flag_set.Add("insecure", &flags.insecure,
               "Plaintext and no authentication at all, for debugging (loudly warned about)");
  flag_set.set_epilog(
      "Exit codes: 0 stopped cleanly, 1 a service failed to start or stop (or another\n"
      "'fabrique up' runs on DIR), 2 bad usage, 130 interrupted while starting.\n"
      "Identity: DIR/auth holds the local CA, the services' certificates, the token signing key\n"
      "(readable by you only) and policy.csv (written once; edit it to grant roles: it reloads).\n"
      "Commands run with --data_dir DIR by you call as you, platform-admin; give others\n"
      "tokens with 'fabrique auth token'.\n"
      "Then: 'fabrique status --data_dir DIR' from another terminal.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 0, 0, "", &parsed)) return *code;
  const std::string bin_dir = flags.bin_dir.empty()
                                  ? std::filesystem::path(self_path).parent_path().string()
                                  : flags.bin_dir;
  // One `up` per folder: a second is told the first's pid before it starts anything.
  absl::StatusOr<std::unique_ptr<server::DataDirLock>> lock =
      server::DataDirLock::Acquire({flags.data_dir, "fabrique"});
  if (!lock.ok()) return Fail(flag_set.program(), lock.status());
  std::error_code error;
  std::filesystem::create_directories(absl::StrCat(flags.data_dir, "/logs"), error);
  if (error) {
    std::cerr << "fabrique up: cannot create " << flags.data_dir << "/logs: " << error.message()
              << "\n";
    return 1;
  }

  if (!flags.insecure) {
    if (absl::Status prepared = PrepareIdentity(flags); !prepared.ok()) {
      return Fail(flag_set.program(), prepared);
    }
  }
  if (absl::Status announced = AnnounceSecurity(flags); !announced.ok()) {
    return Fail(flag_set.program(), announced);
  }

  std::cout << "Starting Fabrique in " << flags.data_dir << "/\n" << std::flush;
  std::vector<Running> running;
  const ForwardPorts forward = FixForwardPorts(flags);
  for (size_t i : StartOrder()) {
    const StartResult result = StartOne(flags, bin_dir, i, forward, running);
    if (result != StartResult::kServing) {
      std::cout << "Stopping the services already started:\n";
      StopAll(running, flags.shutdown_grace);
      std::filesystem::remove(InsecureMarkerPath(flags.data_dir), error);
      return result == StartResult::kInterrupted ? 130 : 1;
    }
  }
  std::vector<Endpoint> endpoints;
  for (const Running* r : InCatalogOrder(running)) {
    endpoints.push_back({std::string(r->info->name), Address(flags.listen_host, r->grpc_port),
                         r->metrics_port, static_cast<int>(r->process->pid())});
  }
  if (absl::Status written = WriteEndpoints(flags.data_dir, endpoints); !written.ok()) {
    std::cerr << "fabrique up: " << written.message() << "\n";
  }
  PrintTable(flags, running);

  // Stay up until a signal, or until a service dies on its own.
  const Running* dead = nullptr;
  int signal = 0;
  while (signal == 0 && dead == nullptr) {
    signal = server::WaitForTerminationSignalFor(absl::Milliseconds(200));
    for (const Running& r : running) {
      if (r.process->Poll().has_value()) dead = &r;
    }
  }
  if (dead != nullptr) {
    ReportFailure(*dead, absl::StrCat("exited on its own with code ", *dead->process->Poll()));
  }
  const char* reason = signal == SIGINT ? "Ctrl-C" : signal == SIGTERM ? "SIGTERM" : "a failure";
  std::cout << "\nStopping (" << reason << "):\n";
  const bool clean = StopAll(running, flags.shutdown_grace);
  std::filesystem::remove(EndpointsPath(flags.data_dir), error);
  std::filesystem::remove(InsecureMarkerPath(flags.data_dir), error);
  std::cout << (clean && dead == nullptr ? "All services stopped cleanly.\n"
                                         : "Some services did not stop cleanly.\n");
  return clean && dead == nullptr ? 0 : 1;
}

}  // namespace fabrique::cli
