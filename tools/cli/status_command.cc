// `fabrique status`: asks every service for its health and prints a table. Exits 1 if any
// service is not SERVING, so scripts can wait on it. With --target, asks the one server there
// (a service run by hand) and names the service it turns out to be.

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/client/health_client.h"
#include "libs/client/service_catalog.h"
#include "libs/core/flags.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/endpoints_file.h"
#include "tools/cli/rpc_call.h"
#include "tools/cli/service_target.h"

namespace fabrique::cli {
namespace {

constexpr char kUnreachable[] = "UNREACHABLE";

// How a failed health check reads in the table.
std::string HealthError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
                 status.code() == absl::StatusCode::kDeadlineExceeded
             ? kUnreachable
             : absl::StrCat("ERROR: ", status.message());
}

// A channel to `address`, where `name` listens: TLS against the CA --ca, $FABRIQUE_CA, the
// credentials file or DIR/auth/ca.crt gives (credentials.h), or plaintext with --insecure. Health
// checks need no token.
absl::StatusOr<std::shared_ptr<grpc::Channel>> HealthChannel(ConnectionFlags flags,
                                                             const std::string& name,
                                                             const std::string& address) {
  if (flags.data_dir.empty()) flags.target = address;
  absl::StatusOr<Connection> connection = Connect(flags, name);
  if (!connection.ok()) return connection.status();
  return connection->target.channel;
}

// The worst health among the gRPC services `name` serves, or the reason it cannot be asked.
std::string ServiceHealth(const ConnectionFlags& flags, const std::string& name,
                          const std::string& address) {
  const client::ServiceInfo* info = client::FindService(name);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = HealthChannel(flags, name, address);
  if (!channel.ok()) return absl::StrCat("ERROR: ", channel.status().message());
  const absl::Duration timeout = flags.timeout;
  std::vector<std::string> services = {""};
  if (info != nullptr) {
    for (absl::string_view s : info->grpc_services) services.emplace_back(s);
  }
  for (const std::string& service : services) {
    absl::StatusOr<client::Health> health = client::CheckHealth(*channel, service, timeout);
    if (!health.ok()) return HealthError(health.status());
    if (*health != client::Health::kServing) return client::HealthName(*health);
  }
  return "SERVING";
}

// The one endpoint at `address`: the catalog service whose gRPC services the server's health
// service knows (each serves its own), or "?" when it knows none of them or cannot be asked.
Endpoint IdentifyEndpoint(const ConnectionFlags& flags, const std::string& address) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = HealthChannel(flags, "?", address);
  if (!channel.ok()) return {"?", address};
  for (const client::ServiceInfo& info : client::Services()) {
    absl::StatusOr<client::Health> health =
        client::CheckHealth(*channel, std::string(info.grpc_services.front()), flags.timeout);
    if (!health.ok()) break;
    if (*health != client::Health::kServiceUnknown) return {std::string(info.name), address};
  }
  return {"?", address};
}

}  // namespace

int RunStatus(const std::vector<std::string>& args) {
  std::string host = "127.0.0.1";
  int grpc_base_port = 7101;
  ConnectionFlags connection;
  connection.timeout = absl::Seconds(2);
  std::string& data_dir = connection.data_dir;
  std::string target;
  core::FlagSet flag_set("fabrique status",
                         "Checks the health (grpc.health.v1) of every Fabrique service and prints "
                         "a table.");
  flag_set.Add("host", &host, "Host the services listen on");
  flag_set.Add("grpc_base_port", &grpc_base_port,
               "gRPC port of features; the others follow (+1 .. +5)");
  flag_set.Add("data_dir", &data_dir,
               "Read the endpoints 'fabrique up --data_dir DIR' wrote (overrides host and ports)");
  flag_set.Add("target", &target,
               "HOST:PORT of one service (one run by hand): check only that one, whichever it is");
  flag_set.Add("ca", &connection.ca,
               "CA bundle (PEM) the servers' certificates must chain to (else $FABRIQUE_CA, the "
               "credentials file, or DIR/auth/ca.crt of --data_dir)");
  flag_set.Add("insecure", &connection.insecure, "Plaintext, for servers run with --insecure");
  flag_set.Add("timeout", &connection.timeout, "Deadline of each health check");
  flag_set.set_epilog("Exit codes: 0 all SERVING, 1 any service down, 2 bad usage.");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 0, 0, "", &parsed)) return *code;

  // Given no address at all, the `fabrique up` running on the default folder is the one meant.
  if (target.empty() && data_dir.empty() && host == "127.0.0.1" && grpc_base_port == 7101) {
    data_dir = LocalDataDir(ProcessEnvironment());
  }
  std::vector<Endpoint> endpoints;
  if (!target.empty()) {
    endpoints.push_back(IdentifyEndpoint(connection, target));
  } else if (!data_dir.empty()) {
    absl::StatusOr<std::vector<Endpoint>> read = ReadEndpoints(data_dir);
    if (!read.ok()) return Fail(flag_set.program(), read.status());
    endpoints = *std::move(read);
  } else {
    const auto& services = client::Services();
    for (size_t i = 0; i < services.size(); ++i) {
      endpoints.push_back({std::string(services[i].name),
                           absl::StrCat(host, ":", grpc_base_port + static_cast<int>(i)), -1, 0});
    }
  }

  bool all_serving = true;
  bool any_unreachable = false;
  std::cout << absl::StrFormat("%-10s %-22s %s\n", "SERVICE", "GRPC", "HEALTH");
  for (const Endpoint& e : endpoints) {
    const std::string health = ServiceHealth(connection, e.name, e.grpc_address);
    all_serving = all_serving && health == "SERVING";
    any_unreachable = any_unreachable || health == kUnreachable;
    std::cout << absl::StrFormat("%-10s %-22s %s\n", e.name, e.grpc_address, health);
  }
  if (any_unreachable) {
    std::cerr << flag_set.program() << ": nothing answers at some of these addresses. "
              << UnreachableAdvice(data_dir) << "\n";
  }
  return all_serving ? 0 : kExitFailure;
}

}  // namespace fabrique::cli
